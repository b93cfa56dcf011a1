/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Parsing of gtpu-lite's uplink: where the inner packet starts behind a GTP-U header. */
#ifndef GTPU_DECAP_H
#define GTPU_DECAP_H

/* Bytes from the GTP-U header to the inner packet: the optional part and up to four extension headers (each says its
 * length in 4-byte units) skipped; -1 when they are malformed or run past the packet. */
static __always_inline int gtpu_payload_offset(struct gtpu_hdr *gtp, void *data_end)
{
  __u32 off;
  __u8 next;

  off = sizeof(*gtp);
  if (gtp->flags & GTPU_FLAGS_OPT) {
    struct gtpu_opt *opt = (void *)(gtp + 1);

    if ((void *)(opt + 1) > data_end)
      return -1;
    off += sizeof(*opt);
    next = (gtp->flags & GTPU_FLAG_E) ? opt->next_ext : 0;
    for (int i = 0; i < 4; i++) {
      __u8 *ext, *last;

      if (!next)
        break;
      if (off > 255)
        return -1;
      ext = (__u8 *)gtp + off;
      if ((void *)(ext + 1) > data_end || ext[0] == 0)
        return -1;
      /* The last byte of an extension header names the next one. */
      last = ext + ext[0] * 4 - 1;
      if ((void *)(last + 1) > data_end)
        return -1;
      next = *last;
      off += ext[0] * 4;
    }
    if (next)
      return -1;
  }
  if (off > 255 + 4 * 255)
    return -1;
  return off;
}

#endif
