/*
 * Fully connected layer, uint8 input times int8 weights [C_out, C_in], to
 * int32 logits that are never requantized:
 *
 *     logit[k] = bias[k] + sum_c w[k, c] * x[c]
 *
 * The model loader checked |bias| + 255 * sum |w| < 2^31 for every class.
 */
#include "kernels/kernels.h"

void picotag_fully_connected_u8i8_reference(const picotag_fully_connected_params *p) {
    for (uint32_t k = 0; k < p->output_channels; k++) {
        const int8_t *row = p->weight + (size_t)k * p->input_channels;
        int32_t acc = p->bias[k];
        for (uint32_t c = 0; c < p->input_channels; c++) {
            acc += (int32_t)row[c] * (int32_t)p->input[c];
        }
        p->output[k] = acc;
    }
}
