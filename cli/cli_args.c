#include <string.h>

#include "nseg/cli.h"

int cli_args_opt(int argc, char **argv, int *i, const char *name,
		 const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return **val ? 1 : -1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc || !*argv[*i + 1])
		return -1;
	*val = argv[++*i];
	return 1;
}
