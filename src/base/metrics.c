/* metrics.c - histogram arithmetic and text exposition. */
#include "base/metrics.h"

void hist_init(struct hist *h, const double *bounds, int n)
{
    if (n > HIST_MAX_BUCKETS)
        n = HIST_MAX_BUCKETS;
    h->nbounds = n;
    for (int i = 0; i < n; i++)
        h->bounds[i] = bounds[i];
    for (int i = 0; i <= HIST_MAX_BUCKETS; i++)
        atomic_init(&h->counts[i], 0);
    atomic_init(&h->count, 0);
    atomic_init(&h->sum, 0.0);
}

void hist_observe(struct hist *h, double v)
{
    int i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    double old = atomic_load_explicit(&h->sum, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&h->sum, &old, old + v, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void hist_render(struct buf *out, const char *name, const char *labels, const struct hist *h)
{
    const char *sep = labels[0] ? "," : "";
    uint64_t cum = 0;
    for (int i = 0; i < h->nbounds; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i],
                   (unsigned long long)cum);
    }
    cum += atomic_load_explicit(&h->counts[h->nbounds], memory_order_relaxed);
    buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
               (unsigned long long)cum);
    const char *lb = labels[0] ? "{" : "", *le = labels[0] ? "}" : "";
    buf_printf(out, "%s_sum%s%s%s %.6f\n", name, lb, labels, le,
               atomic_load_explicit(&h->sum, memory_order_relaxed));
    buf_printf(out, "%s_count%s%s%s %llu\n", name, lb, labels, le, (unsigned long long)cum);
}
