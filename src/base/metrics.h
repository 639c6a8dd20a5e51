/* metrics.h - lock-free histograms for the Prometheus /metrics page. */
#ifndef LINLI_METRICS_H
#define LINLI_METRICS_H

#include "base/buf.h"

#include <stdatomic.h>
#include <stdint.h>

#define HIST_MAX_BUCKETS 16

struct hist {
    int nbounds;
    double bounds[HIST_MAX_BUCKETS]; /* upper bounds, rising, in the unit of observe */
    atomic_uint_fast64_t counts[HIST_MAX_BUCKETS + 1];
    atomic_uint_fast64_t count;
    _Atomic double sum;
};

void hist_init(struct hist *h, const double *bounds, int n);
void hist_observe(struct hist *h, double value);
/* Writes the _bucket, _sum and _count series. `labels` is "" or `k="v",...`. */
void hist_render(struct buf *out, const char *name, const char *labels, const struct hist *h);

#endif
