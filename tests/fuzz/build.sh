#!/bin/sh
# Builds the libFuzzer harnesses with clang into build/fuzz/:
#   build/fuzz/fuzz_http1   HTTP/1 glue (src/http1.c + llhttp)
#   build/fuzz/fuzz_cfg     configuration parser (every src object but main.o)
# Usage: tests/fuzz/build.sh            (from anywhere in the tree)
# Environment: CC (default clang), SAN (default address,undefined),
#              LLHTTP_SRC / LLHTTP_INC (default: from config.mk, else Debian's node-llhttp)
set -eu

cd "$(dirname "$0")/../.."

CC=${CC:-clang}
SAN=${SAN:-address,undefined}
OUT=build/fuzz

# Take llhttp's location and the libraries from ./configure when it ran.
mkval() { [ -f config.mk ] && sed -n "s/^$1 *= *//p" config.mk | head -n 1; }
LLHTTP_SRCS=$(mkval LLHTTP_SRCS || true)
DEP_CFLAGS=$(mkval DEP_CFLAGS || true)
DEP_LIBS=$(mkval DEP_LIBS || true)
LLHTTP_SRC=${LLHTTP_SRC:-$(dirname "$(echo "${LLHTTP_SRCS:-/usr/share/llhttp/llhttp.c}" | cut -d' ' -f1)")}
LLHTTP_INC=${LLHTTP_INC:-/usr/share/include/llhttp}
DEP_LIBS=${DEP_LIBS:--lev -lssl -lcrypto -lpcre2-8}

command -v "$CC" >/dev/null 2>&1 || {
	echo "build.sh: $CC not found (apt-get install clang)" >&2; exit 1; }

SANFLAGS="-fsanitize=$SAN -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -Iinclude -I$LLHTTP_INC $DEP_CFLAGS -O1 -g $SANFLAGS -DPROXYD_VERSION=\"fuzz\""

mkdir -p "$OUT/obj"
objs=
for src in src/*.c; do
	[ "$src" = src/main.c ] && continue
	obj="$OUT/obj/$(basename "$src" .c).o"
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	objs="$objs $obj"
done
llobjs=
for f in llhttp api http; do
	$CC -std=gnu11 -O1 -g -I"$LLHTTP_INC" $SANFLAGS -fsanitize=fuzzer-no-link -w \
		-c "$LLHTTP_SRC/$f.c" -o "$OUT/obj/llhttp_$f.o"
	llobjs="$llobjs $OUT/obj/llhttp_$f.o"
done

$CC $CFLAGS -fsanitize=fuzzer tests/fuzz/fuzz_http1.c "$OUT/obj/http1.o" $llobjs -o "$OUT/fuzz_http1"
$CC $CFLAGS -fsanitize=fuzzer -Wl,--wrap=getaddrinfo tests/fuzz/fuzz_cfg.c $objs $llobjs $DEP_LIBS \
	-o "$OUT/fuzz_cfg"
echo "built $OUT/fuzz_http1 and $OUT/fuzz_cfg"
