/* walk.h - how long an older person takes to walk somewhere.
 *
 * One interface, so that a road-network model can replace the first one
 * without touching its callers: `minutes` gives the walking time between two
 * points, and `reach_m` the straight-line radius that surely holds every
 * point reachable within a time (callers search that circle, then ask
 * `minutes` of each candidate).
 *
 * The first model is the straight line made longer by a detour factor
 * (streets are not straight; 1.3 is a common figure for a city grid) and
 * walked at an older person's pace (60 m a minute, about 1 m/s: the usual
 * comfortable gait speed of people over 70 is 1.0-1.2 m/s, slower for the
 * frail). Both are settings of linlid (--walk-detour, --walk-speed). */
#ifndef LINLI_WALK_H
#define LINLI_WALK_H

#include "geo/geo.h"

#define WALK_DETOUR_DEFAULT 1.3  /* walked path length / straight-line distance */
#define WALK_SPEED_DEFAULT  60.0 /* metres a minute */
#define WALK_DETOUR_MIN     1.0
#define WALK_DETOUR_MAX     3.0
#define WALK_SPEED_MIN      10.0
#define WALK_SPEED_MAX      150.0
#define WALK_ROUNDING_SLACK 1e-9 /* minutes: float noise, not a longer walk */

struct walk_model {
    /* Walking minutes from `a` to `b`. */
    double (*minutes)(const struct walk_model *m, struct geo_point a, struct geo_point b);
    /* Walking minutes for a straight-line distance of `dist_m`. */
    double (*minutes_for)(const struct walk_model *m, double dist_m);
    /* A straight-line radius holding everything reachable within `minutes`. */
    double (*reach_m)(const struct walk_model *m, double minutes);
    double detour; /* the straight-line model's settings */
    double speed_m_min;
};

/* The straight-line model with these settings (checked by the caller against
 * the WALK_*_MIN/MAX bounds). */
void walk_straight_line(struct walk_model *m, double detour, double speed_m_min);

/* Walking minutes as answers show them, always rounded up, so that what a
 * person reads is never shorter than the walk and a page that rounds the
 * tenths up gets the same whole minute: to a tenth (the walk_minutes fields)
 * and to a whole minute, at least 1 (the directory's ranking and the
 * "步行约N分钟" reasons). ceil(walk_minutes_tenths(m)) == walk_minutes_whole(m)
 * for every walk longer than a hair; a hair over a whole or a tenth (float
 * noise, WALK_ROUNDING_SLACK) is not rounded up. */
double walk_minutes_tenths(double minutes);
long walk_minutes_whole(double minutes);

#endif
