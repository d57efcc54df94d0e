/*
 * fixture.h - the tiny networks and datasets the training tests share.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include "arch.h"
#include "model.h"
#include "train.h"

/* A tiny NACHOS EENN: all-min, width 0.25, 16x16 grey input, K classes. */
void fixture_net(struct arch_net *n, int K);
/* The same built for batch and initialised from seed 7. */
void fixture_model(struct model *m, int K, int batch);
/* ntr + nva grey images of hw x hw, labels i % K, the first ntr the train
 * split and the rest the validation split; each class's pixels are
 * shifted by 40 so the classes can be learnt. */
void fixture_ds(struct train_ds *ds, int ntr, int nva, int hw, int K);
void fixture_ds_free(struct train_ds *ds);

#endif
