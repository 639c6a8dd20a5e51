/* photo_exif.c - the little of EXIF a photo upload needs: IFD0 Orientation
 * and the GPS position, read from the TIFF structure with every offset and
 * count checked; and the smallest TIFF that carries only an orientation.
 *
 * Only two IFDs are ever visited, IFD0 and the one its GPS pointer names,
 * each once; "next IFD" links are never followed. An offset that points
 * back at an IFD already read (a cycle) therefore costs one more bounded
 * scan, never a loop. */
#include "media/photo_internal.h"

#include <stdbool.h>
#include <string.h>

#define TIFF_HEADER_LEN   8
#define TIFF_MAGIC        42
#define TIFF_ENTRY_LEN    12
#define TIFF_INLINE_BYTES 4 /* values this small sit in the entry itself */

enum tiff_tag {
    TAG_ORIENTATION = 0x0112,
    TAG_GPS_IFD = 0x8825,
    TAG_GPS_LAT_REF = 1,
    TAG_GPS_LAT = 2,
    TAG_GPS_LON_REF = 3,
    TAG_GPS_LON = 4,
};

enum tiff_type {
    TIFF_BYTE = 1,
    TIFF_ASCII = 2,
    TIFF_SHORT = 3,
    TIFF_LONG = 4,
    TIFF_RATIONAL = 5,
    TIFF_SBYTE = 6,
    TIFF_UNDEFINED = 7,
    TIFF_SSHORT = 8,
    TIFF_SLONG = 9,
    TIFF_SRATIONAL = 10,
    TIFF_FLOAT = 11,
    TIFF_DOUBLE = 12,
    TIFF_IFD = 13,
};

struct tiff {
    const uint8_t *p;
    size_t len;
    bool big_endian;
};

struct tiff_entry {
    uint32_t type;
    uint32_t count;
    size_t value; /* offset of the value's first byte, inside the TIFF */
};

static uint32_t tiff_u16(const struct tiff *t, size_t off)
{
    return t->big_endian ? photo__be16(t->p + off) : photo__le16(t->p + off);
}

static uint32_t tiff_u32(const struct tiff *t, size_t off)
{
    return t->big_endian ? photo__be32(t->p + off) : photo__le32(t->p + off);
}

static size_t tiff_type_size(uint32_t type)
{
    switch (type) {
    case TIFF_BYTE:
    case TIFF_ASCII:
    case TIFF_SBYTE:
    case TIFF_UNDEFINED:
        return 1;
    case TIFF_SHORT:
    case TIFF_SSHORT:
        return 2;
    case TIFF_LONG:
    case TIFF_SLONG:
    case TIFF_FLOAT:
    case TIFF_IFD:
        return 4;
    case TIFF_RATIONAL:
    case TIFF_SRATIONAL:
    case TIFF_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

/* Finds `tag` in the IFD at `ifd` and where its value lies. False when the
 * IFD does not fit in the TIFF, the tag is absent, its type is unknown, or
 * its value runs past the end. */
static bool tiff_find(const struct tiff *t, size_t ifd, uint32_t tag, struct tiff_entry *e)
{
    if (ifd > t->len || t->len - ifd < 2)
        return false;
    size_t count = tiff_u16(t, ifd);
    if ((t->len - ifd - 2) / TIFF_ENTRY_LEN < count)
        return false;
    for (size_t i = 0; i < count; i++) {
        size_t at = ifd + 2 + i * TIFF_ENTRY_LEN;
        if (tiff_u16(t, at) != tag)
            continue;
        e->type = tiff_u16(t, at + 2);
        e->count = tiff_u32(t, at + 4);
        size_t unit = tiff_type_size(e->type);
        if (unit == 0 || e->count > t->len / unit)
            return false;
        size_t size = unit * e->count;
        if (size <= TIFF_INLINE_BYTES) {
            e->value = at + 8;
            return true;
        }
        size_t off = tiff_u32(t, at + 8);
        if (off > t->len || size > t->len - off)
            return false;
        e->value = off;
        return true;
    }
    return false;
}

/* Degrees, minutes and seconds as three RATIONALs, to decimal degrees. */
static bool tiff_degrees(const struct tiff *t, size_t ifd, uint32_t tag, double *out)
{
    struct tiff_entry e;
    if (!tiff_find(t, ifd, tag, &e) || e.type != TIFF_RATIONAL || e.count != 3)
        return false;
    static const double scale[3] = {1.0, 60.0, 3600.0};
    double deg = 0;
    for (size_t i = 0; i < 3; i++) {
        uint32_t num = tiff_u32(t, e.value + 8 * i);
        uint32_t den = tiff_u32(t, e.value + 8 * i + 4);
        if (den == 0)
            return false;
        deg += (double)num / den / scale[i];
    }
    *out = deg;
    return true;
}

/* +1 for `pos` ('N' or 'E'), -1 for `neg`, 0 when the reference is unreadable. */
static int tiff_ref(const struct tiff *t, size_t ifd, uint32_t tag, char pos, char neg)
{
    struct tiff_entry e;
    if (!tiff_find(t, ifd, tag, &e) || e.type != TIFF_ASCII || e.count < 1)
        return 0;
    char c = (char)t->p[e.value];
    return c == pos ? 1 : c == neg ? -1 : 0;
}

static void exif_read_gps(const struct tiff *t, size_t gps, struct photo_info *out)
{
    int lat_sign = tiff_ref(t, gps, TAG_GPS_LAT_REF, 'N', 'S');
    int lon_sign = tiff_ref(t, gps, TAG_GPS_LON_REF, 'E', 'W');
    double lat, lon;
    if (!lat_sign || !lon_sign || !tiff_degrees(t, gps, TAG_GPS_LAT, &lat) ||
        !tiff_degrees(t, gps, TAG_GPS_LON, &lon))
        return;
    if (lat > 90.0 || lon > 180.0 || (lat == 0.0 && lon == 0.0))
        return;
    out->has_gps = true;
    out->lat = lat_sign * lat;
    out->lon = lon_sign * lon;
}

void photo__exif_read(const uint8_t *tiff, size_t len, struct photo_info *out)
{
    static const char EXIF_PREFIX[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (len >= sizeof EXIF_PREFIX && memcmp(tiff, EXIF_PREFIX, sizeof EXIF_PREFIX) == 0) {
        tiff += sizeof EXIF_PREFIX;
        len -= sizeof EXIF_PREFIX;
    }
    if (len < TIFF_HEADER_LEN)
        return;
    struct tiff t = {.p = tiff, .len = len};
    if (memcmp(tiff, "MM", 2) == 0)
        t.big_endian = true;
    else if (memcmp(tiff, "II", 2) != 0)
        return;
    if (tiff_u16(&t, 2) != TIFF_MAGIC)
        return;
    size_t ifd0 = tiff_u32(&t, 4);

    struct tiff_entry e;
    if (tiff_find(&t, ifd0, TAG_ORIENTATION, &e) && e.type == TIFF_SHORT && e.count == 1) {
        uint32_t o = tiff_u16(&t, e.value);
        if (o >= 1 && o <= 8)
            out->orientation = (int)o;
    }
    if (tiff_find(&t, ifd0, TAG_GPS_IFD, &e) && (e.type == TIFF_LONG || e.type == TIFF_IFD) &&
        e.count == 1)
        exif_read_gps(&t, tiff_u32(&t, e.value), out);
}

void photo__exif_orientation(int orientation, uint8_t out[PHOTO_EXIF_ORIENTATION_LEN])
{
    const uint8_t tiff[PHOTO_EXIF_ORIENTATION_LEN] = {
        'M',
        'M',
        0,
        TIFF_MAGIC,
        0,
        0,
        0,
        TIFF_HEADER_LEN, /* header: IFD0 right after it */
        0,
        1, /* one entry */
        TAG_ORIENTATION >> 8,
        TAG_ORIENTATION & 0xff,
        0,
        TIFF_SHORT,
        0,
        0,
        0,
        1, /* 1 SHORT */
        0,
        (uint8_t)orientation,
        0,
        0, /* inline */
        0,
        0,
        0,
        0, /* no next IFD */
    };
    memcpy(out, tiff, sizeof tiff);
}
