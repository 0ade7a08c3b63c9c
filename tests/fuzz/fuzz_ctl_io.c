/*
 * The control-protocol decoder on arbitrary bytes: one-shot decoding of
 * the whole input, then the incremental decoder fed in uneven pieces.
 * When the input is exactly one valid message, both must decode it the
 * same; neither may crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nseg/ctl_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_io_msg m, one;
	struct ctl_io_dec d;
	int nth = 0;
	char err[256];
	size_t off = 0, step = 1;
	int st;

	ctl_io_decode(data, size, &one, err, sizeof(err));
	ctl_io_dec_init(&d);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		ctl_io_dec_feed(&d, data + off, n);
		off += n;
		step = step * 3 % 17 + 1;
		while ((st = ctl_io_dec_next(&d, &m, err, sizeof(err))) ==
		       CTL_IO_OK) {
			if (!json_is_object(m.payload))
				abort();
			if (nth++ == 0 && one.payload &&
			    (one.type != m.type || one.seq != m.seq ||
			     !json_equal(one.payload, m.payload)))
				abort();
			ctl_io_msg_clear(&m);
		}
		ctl_io_msg_clear(&m);
		if (st != CTL_IO_AGAIN)
			break;
	}
	if (one.payload && nth != 1)
		abort();
	ctl_io_msg_clear(&one);
	ctl_io_dec_release(&d);
	return 0;
}
