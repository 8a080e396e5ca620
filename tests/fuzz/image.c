/* image: fuzzes `qnnc image PICTURE --size WxH`: BMP, PPM and PGM parsing,
 * then the resize to a small size in RGB and in gray (both conversions).
 * The first byte, if it is not part of a picture's magic, instead selects
 * a raw picture of the remaining bytes (--raw WxH). */
#include <stdlib.h>

#include "runtime/io/image.h"
#include "fuzz.h"

int fuzz_one(const uint8_t *data, size_t len)
{
    char err[512];
    image src, dst;
    uint32_t rw = 0, rh = 0, ch = 0;
    if (len > 1 && data[0] != 'B' && data[0] != 'P') { /* raw: W = first byte, H from the size */
        ch = data[0] & 1 ? 3 : 1;
        rw = data[0] / 2 + 1;
        rh = (uint32_t)((len - 1) / ((size_t)rw * ch));
        if (!rh)
            return 0;
        data++;
        len = (size_t)rw * rh * ch;
    }
    if (img_parse("fuzz.img", data, len, rw, rh, ch, &src, err, sizeof err) != 0) {
        fuzz_note("image", err);
        return 0;
    }
    for (uint32_t c = 1; c <= 3; c += 2)
        if (img_resize(&src, 7, 5, c, &dst) == 0)
            img_free(&dst);
    img_free(&src);
    return 0;
}
