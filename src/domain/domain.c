/* domain.c - shared domain helpers. */
#include "domain/domain.h"

void domain_publish(struct domain *d, const char *topic, json_t *payload)
{
    if (d->bus && payload)
        bus_publish(d->bus, topic, payload);
    json_decref(payload);
}
