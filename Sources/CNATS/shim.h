#ifndef SENDWATCH_CNATS_SHIM_H
#define SENDWATCH_CNATS_SHIM_H
#include <nats/nats.h>
#endif
