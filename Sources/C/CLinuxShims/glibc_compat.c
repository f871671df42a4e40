/* Keeps the statically linked release binary at glibc 2.34 (Debian 12, Ubuntu 22.04, RHEL 9).
 * The Swift runtime's static Foundation refers to hypotf and (its CGFloat hypot) hypot, which
 * glibc 2.35 versioned anew; a static link binds those references to these definitions
 * instead. Float inputs cannot overflow in double, so hypotf is as exact as libm's; hypot
 * scales by the larger side (no overflow or underflow on the way) and is within 2 ulp. The tool
 * itself calls neither. */
#include <math.h>

float hypotf(float x, float y)
{
	return (float)sqrt((double)x * x + (double)y * y);
}

double hypot(double x, double y)
{
	double big, small, ratio;

	x = fabs(x);
	y = fabs(y);
	if (isinf(x) || isinf(y))
		return INFINITY;
	if (isnan(x) || isnan(y))
		return NAN;
	big = x > y ? x : y;
	small = x > y ? y : x;
	if (big == 0)
		return 0;
	ratio = small / big;
	return big * sqrt(1 + ratio * ratio);
}
