/* reports.h - the planner's reports over areas and stations, computed from
 * the data on every call and never stored:
 *
 *   station coverage      which streets have a street centre and which
 *                         communities a community station serves, against the
 *                         district's target of full coverage (社工站100%覆盖);
 *   oversized communities current communities with more households than a
 *                         threshold (3000户以上社区拆分).
 *
 * Staff roles only (admin, district, street, community, operator, auditor),
 * and every figure is limited to the caller's scope. */
#ifndef LINLI_REPORTS_H
#define LINLI_REPORTS_H

#include "domain/domain.h"
#include "domain/principal.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define REPORT_COVERAGE_TARGET      1.0  /* every street and community served */
#define REPORT_OVERSIZED_HOUSEHOLDS 3000 /* the default threshold */
#define REPORT_HOUSEHOLDS_MAX       10000000

/* part / whole, or a negative number when whole is 0 (nothing to cover). */
double coverage_share(int64_t part, int64_t whole);

/* The counts the coverage target is judged on. */
struct coverage_totals {
    int64_t districts, districts_with_centre; /* only when the report covers whole districts */
    int64_t streets, streets_with_centre;
    int64_t communities, communities_served;
};

/* True when every district, street and community counted is served (a share
 * of at least `target` at each level; a level with nothing to count passes). */
bool coverage_met(const struct coverage_totals *t, double target);

struct coverage_query {
    const char *street; /* a normalised street code, or NULL for the caller's whole scope */
    bool detail;        /* list every community, also without `street` */
};

/* Builds the station-coverage report (see docs/api.md). EFORBIDDEN for
 * non-staff or a street outside the caller's scope; ENOTFOUND for a street
 * that is not a current one. *out is a new reference. */
int reports_station_coverage(struct domain *d, const struct principal *who,
                             const struct coverage_query *q, json_t **out, struct linli_err *err);

struct oversized_query {
    int64_t households; /* communities with more than this many households */
    const char *street; /* normalised, or NULL */
};

/* Current communities over the threshold, most households first, with the
 * number of communities whose households are not known. */
int reports_oversized_communities(struct domain *d, const struct principal *who,
                                  const struct oversized_query *q, json_t **out,
                                  struct linli_err *err);

#endif
