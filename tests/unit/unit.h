/* unit.h — what every unit test file includes. */
#ifndef HPQ_UNIT_H
#define HPQ_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif
