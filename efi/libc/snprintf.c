/*
 * snprintf / vsnprintf for hiberload's freestanding EFI build.
 *
 * Needed because mbedTLS's oid.c formats dotted OIDs with snprintf
 * (MBEDTLS_PLATFORM_SNPRINTF_MACRO in efi/mbedtls-config-efi.h); small enough
 * to be handy for log messages too. Output is 8-bit chars; for the firmware
 * console the caller converts to CHAR16 (or uses gnu-efi's Print).
 *
 * Supported: flags '-' '0' '+' ' ', field width and precision (number or
 * '*'), length modifiers hh h l ll z j t, conversions d i u x X o c s p %.
 * Not supported: floating point, %n, positional arguments. An unknown
 * conversion is copied to the output as is.
 *
 * C99 semantics: the result is always NUL-terminated when size > 0, and the
 * return value is the length the complete output would have had.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Output cursor that counts every character but stores only what fits. */
struct out {
    char *buf;
    size_t size; /* capacity including the terminating NUL */
    size_t len;  /* characters produced so far (may exceed size) */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8 };

static void put_str(struct out *o, const char *s, int width, int prec, int flags)
{
    int len = 0;
    if (s == NULL)
        s = "(null)";
    while (s[len] && (prec < 0 || len < prec))
        len++;
    if (!(flags & F_LEFT))
        pad(o, ' ', width - len);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (flags & F_LEFT)
        pad(o, ' ', width - len);
}

static void put_num(struct out *o, uintmax_t v, int negative, unsigned base, int upper,
                    int width, int prec, int flags)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24]; /* 2^64 in octal has 22 digits */
    int n = 0;
    char sign = negative ? '-' : (flags & F_PLUS) ? '+' : (flags & F_SPACE) ? ' ' : 0;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    /* C: precision 0 with value 0 prints no digits. */
    if (prec == 0 && n == 1 && tmp[0] == '0')
        n = 0;

    int zeros = prec > n ? prec - n : 0;
    int body = n + zeros + (sign ? 1 : 0);
    /* The '0' flag pads with zeros after the sign, unless a precision is
     * given (then it is ignored, as in C). */
    if ((flags & F_ZERO) && !(flags & F_LEFT) && prec < 0 && width > body) {
        zeros += width - body;
        body = width;
    }
    if (!(flags & F_LEFT))
        pad(o, ' ', width - body);
    if (sign)
        put(o, sign);
    pad(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (flags & F_LEFT)
        pad(o, ' ', width - body);
}

int vsnprintf(char *__restrict buf, size_t size, const char *__restrict fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        const char *spec = fmt++;

        int flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') flags |= F_LEFT;
            else if (*fmt == '0') flags |= F_ZERO;
            else if (*fmt == '+') flags |= F_PLUS;
            else if (*fmt == ' ') flags |= F_SPACE;
            else break;
        }

        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }

        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }

        /* Length modifier, as the size of the promoted argument. */
        enum { L_INT, L_CHAR, L_SHORT, L_LONG, L_LLONG, L_SIZE, L_MAX, L_PTRDIFF } len = L_INT;
        if (*fmt == 'h') {
            fmt++;
            len = L_SHORT;
            if (*fmt == 'h') { fmt++; len = L_CHAR; }
        } else if (*fmt == 'l') {
            fmt++;
            len = L_LONG;
            if (*fmt == 'l') { fmt++; len = L_LLONG; }
        } else if (*fmt == 'z') { fmt++; len = L_SIZE; }
        else if (*fmt == 'j') { fmt++; len = L_MAX; }
        else if (*fmt == 't') { fmt++; len = L_PTRDIFF; }

        char conv = *fmt;
        if (conv == '\0')
            break; /* lone '%' at the end: drop it */
        fmt++;

        switch (conv) {
        case 'd':
        case 'i': {
            intmax_t v;
            switch (len) {
            case L_CHAR: v = (signed char)va_arg(ap, int); break;
            case L_SHORT: v = (short)va_arg(ap, int); break;
            case L_LONG: v = va_arg(ap, long); break;
            case L_LLONG: v = va_arg(ap, long long); break;
            case L_SIZE: v = va_arg(ap, ptrdiff_t); break; /* signed size_t */
            case L_MAX: v = va_arg(ap, intmax_t); break;
            case L_PTRDIFF: v = va_arg(ap, ptrdiff_t); break;
            default: v = va_arg(ap, int); break;
            }
            /* Negate in unsigned arithmetic: -INTMAX_MIN overflows. */
            uintmax_t mag = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
            put_num(&o, mag, v < 0, 10, 0, width, prec, flags);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uintmax_t v;
            switch (len) {
            case L_CHAR: v = (unsigned char)va_arg(ap, unsigned int); break;
            case L_SHORT: v = (unsigned short)va_arg(ap, unsigned int); break;
            case L_LONG: v = va_arg(ap, unsigned long); break;
            case L_LLONG: v = va_arg(ap, unsigned long long); break;
            case L_SIZE: v = va_arg(ap, size_t); break;
            case L_MAX: v = va_arg(ap, uintmax_t); break;
            case L_PTRDIFF: v = (uintmax_t)va_arg(ap, ptrdiff_t); break;
            default: v = va_arg(ap, unsigned int); break;
            }
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            put_num(&o, v, 0, base, conv == 'X', width, prec, flags & ~(F_PLUS | F_SPACE));
            break;
        }
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, (uintptr_t)va_arg(ap, void *), 0, 16, 0, 0, -1, 0);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!(flags & F_LEFT))
                pad(&o, ' ', width - 1);
            put(&o, c);
            if (flags & F_LEFT)
                pad(&o, ' ', width - 1);
            break;
        }
        case 's':
            put_str(&o, va_arg(ap, const char *), width, prec, flags);
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unsupported: show the directive rather than guess. */
            while (spec < fmt)
                put(&o, *spec++);
            break;
        }
    }

    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    /* C requires int; saturate rather than wrap for absurd lengths. */
    return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int snprintf(char *__restrict buf, size_t size, const char *__restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
