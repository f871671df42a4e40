/* Keeps the statically linked release binary at glibc 2.34 (Debian 12, Ubuntu 22.04, RHEL 9).
 * The Swift runtime's static Foundation refers to hypotf, which glibc 2.35 versioned anew; a
 * static link binds that reference to this definition instead. Float inputs cannot overflow in
 * double, so this is as exact as libm's. */
#include <math.h>

float hypotf(float x, float y)
{
	return (float)sqrt((double)x * x + (double)y * y);
}
