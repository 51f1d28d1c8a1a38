/* Conversions of decoded samples to 8-bit RGB: alpha compositing and CMYK.
 * Both use x / 255 rounded to nearest, computed as (x + 127) / 255; for the
 * products below x / 255 is never exactly halfway, so no tie rule is needed. */
#include "image/image_internal.h"

void image_rgba_row_over_white(const uint8_t *rgba, uint8_t *rgb, size_t pixel_count)
{
    /* Transparent areas become white, as most viewers show them; dropping
     * alpha instead would expose whatever colour the encoder left under
     * fully transparent pixels. In-place use (rgb == rgba) is allowed
     * because each output pixel ends at or before its input pixel. */
    for (size_t i = 0; i < pixel_count; i++) {
        uint32_t alpha = rgba[i * 4 + 3];
        uint32_t white_part = 255u * (255u - alpha);
        for (int channel = 0; channel < 3; channel++) {
            uint32_t color = rgba[i * 4 + (size_t)channel];
            rgb[i * 3 + (size_t)channel] = (uint8_t)((color * alpha + white_part + 127u) / 255u);
        }
    }
}

void image_cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixel_count,
                           int adobe_inverted)
{
    /* With ink amounts C and K in 0..255 (255 = full ink):
     * R = (255 - C) * (255 - K) / 255, likewise G from M and B from Y. This
     * is the conversion Pillow uses for CMYK JPEGs. */
    for (size_t i = 0; i < pixel_count; i++) {
        const uint8_t *in = cmyk + i * 4;
        uint32_t black_left = adobe_inverted ? in[3] : 255u - in[3];
        for (int channel = 0; channel < 3; channel++) {
            uint32_t ink_left = adobe_inverted ? in[channel] : 255u - in[channel];
            rgb[i * 3 + (size_t)channel] = (uint8_t)((ink_left * black_left + 127u) / 255u);
        }
    }
}
