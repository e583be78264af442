/* proxyd entry point (skeleton). */
#include <stdio.h>
#include <string.h>
#include <proxyd/version.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-vv") == 0) {
		version_print(1);
		return 0;
	}
	version_print(0);
	return 0;
}
