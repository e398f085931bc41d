/* clock.h — the shim's clock for deadlines and back-offs. */
#ifndef HPQ_CLOCK_H
#define HPQ_CLOCK_H

/* CLOCK_MONOTONIC, in milliseconds. */
long long hpq_now_ms(void);

#endif
