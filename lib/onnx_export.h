/*
 * onnx_export.h - an EENN as ONNX: one model file per segment (backbone
 * chunk + its exit), written with protobuf-c over the onnx.proto of
 * Debian's python3-onnx (C generated at build time). The graph layout is
 * in formats/onnx.md; in short, segment i (1-based) of an EENN with B exits:
 *
 *   inputs   image      uint8 (N, c, h, w)  segment 1: the dataset's raw
 *                                           pixels (normalisation, grey to
 *                                           3 channels, centring with zero
 *                                           padding or cropping inside)
 *            features_{i-1}  float (N, C, H, W)  segments 2..B
 *   outputs  logits_i   float (N, K)        exit i's class logits
 *            conf_i     float (N)           sigmoid of the confidence
 *                                           logit, NACHOS intermediate
 *                                           exits only
 *            features_i float (N, C, H, W)  what segment i+1 reads, i < B
 *
 * N is symbolic. BN stays as BatchNormalization nodes (eval mode, the
 * running statistics, eps of the model) with the checkpoint's tensors under
 * their PyTorch state_dict names; h-swish and h-sigmoid are HardSwish and
 * HardSigmoid (opset 17, IR version 8). Each graph computes what the
 * engine's eval forward computes (model.c), nothing past its exit. The
 * exit rule and thresholds are not in the graphs: the caller keeps them in
 * its record (runners apply them between segments, formats/onnx.md).
 *
 * Typical use (eenn-export --onnx):
 *	struct onnx_file f[MODEL_MAX_EXITS];
 *	int n = onnx_export(f, "out/<id>/onnx", &mdl, &nm, c, h, w, NULL);
 *	for (i = 0; i < n; i++) ... f[i].path, f[i].bytes ...
 */
#ifndef ONNX_EXPORT_H
#define ONNX_EXPORT_H

#include "data.h"
#include "model.h"

#define ONNX_OPSET 17
#define ONNX_IR_VERSION 8

struct onnx_file {
	char path[4096];         /* DIR/segI.onnx, I = 1..B */
	long bytes;              /* its size */
};

/*
 * Write segment files seg1.onnx .. segB.onnx (B = m->nexit) of model m
 * (its current parameters, e.g. after ckpt_load) into directory dir, which
 * must exist; each file is written to a temporary name and renamed. Images
 * are c x h x w uint8 (c = the network's in_ch, or 1 for a 3-channel
 * network: the grey channel repeated), normalised with nm as data_batch
 * does. meta: NULL, or a NULL-terminated list of key, value strings added
 * to every file's metadata_props after the exporter's own (formats/onnx.md).
 * Fills out[0..B-1] and returns B. Exits EX_CANTCREAT / EX_IOERR naming
 * the file when it cannot be written, EX_SOFTWARE on arguments the caller
 * should have checked (channels, sizes, a missing tensor).
 */
int onnx_export(struct onnx_file *out /* (m->nexit) */, const char *dir,
    const struct model *m, const struct data_norm *nm, int c, int h, int w,
    const char *const *meta);

#endif
