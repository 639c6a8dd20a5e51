/* walk.c - the straight-line walking model: the great-circle distance,
 * lengthened by a detour factor, walked at a steady pace. */
#include "geo/walk.h"

#include <math.h>

static double straight_minutes_for(const struct walk_model *m, double dist_m)
{
    return dist_m * m->detour / m->speed_m_min;
}

static double straight_minutes(const struct walk_model *m, struct geo_point a, struct geo_point b)
{
    return straight_minutes_for(m, geo_distance_m(a, b));
}

static double straight_reach_m(const struct walk_model *m, double minutes)
{
    return minutes * m->speed_m_min / m->detour;
}

void walk_straight_line(struct walk_model *m, double detour, double speed_m_min)
{
    m->minutes = straight_minutes;
    m->minutes_for = straight_minutes_for;
    m->reach_m = straight_reach_m;
    m->detour = detour;
    m->speed_m_min = speed_m_min;
}

double walk_minutes_tenths(double minutes)
{
    double up = minutes > 0 ? ceil((minutes - WALK_ROUNDING_SLACK) * 10.0) / 10.0 : 0;
    return up > 0 ? up : 0; /* never -0 */
}

long walk_minutes_whole(double minutes)
{
    double up = minutes > 0 ? ceil(minutes - WALK_ROUNDING_SLACK) : 0;
    return up < 1 ? 1 : (long)up;
}
