/*
 * Global average pooling over uint8 NHWC to one uint8 per channel:
 *
 *     q[c] = clamp((S[c] * m + 2^(shift - 1)) >> shift, 0, 255)
 *
 * where S[c] is the sum over all height * width positions. The runner
 * plans only sizes with 255 * height * width < 2^31, so S fits int32 and
 * S * m < 2^62.
 */
#include "kernels/kernels.h"
#include "kernels/reference/requantize.h"

void picotag_global_avgpool_u8_reference(const picotag_global_avgpool_params *p) {
    const size_t positions = (size_t)p->input_height * p->input_width;

    for (uint32_t c = 0; c < p->channels; c++) {
        int64_t sum = 0;
        for (size_t i = 0; i < positions; i++) {
            sum += p->input[i * p->channels + c];
        }
        p->output[c] = requantize_to_u8(sum * (int64_t)p->multiplier, p->shift);
    }
}
