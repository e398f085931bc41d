/* version.h — the one place the version is written. The library sends it in
 * its User-Agent and logs it at debug; the command prints it for --version;
 * the Makefile reads it for the Debian package. Keep it a plain #define. */
#ifndef HPQ_VERSION_H
#define HPQ_VERSION_H

#define HPQ_VERSION "0.2.0"

#endif
