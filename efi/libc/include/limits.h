/*
 * <limits.h> for hiberload's freestanding EFI build (efi/libc).
 *
 * gcc's own limits.h is complete for a freestanding target, but unless
 * _LIBC_LIMITS_H_ is defined it pulls in syslimits.h, which does
 * #include_next <limits.h> to find a C library's header; with -nostdinc there
 * is none and the build fails. Defining the guard tells gcc's header that no
 * libc limits.h exists, so it provides the standard macros itself.
 */
#ifndef HL_LIBC_LIMITS_H
#define HL_LIBC_LIMITS_H

#ifndef _LIBC_LIMITS_H_
#define _LIBC_LIMITS_H_
#endif
#include_next <limits.h>

#endif
