/* The <math.h> of a bare-metal C library (as newlib declares it), for
 * tests/check_firmware_mcu.sh: only the standard's prototypes, no host. */
#ifndef KLEFR_MCU_MATH_H
#define KLEFR_MCU_MATH_H
double cos(double x);
double sin(double x);
double sqrt(double x);
double fabs(double x);
long lrint(double x);
long lround(double x);
long long llround(double x);
#endif
