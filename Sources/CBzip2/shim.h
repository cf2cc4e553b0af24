#ifndef SENDWATCH_CBZIP2_SHIM_H
#define SENDWATCH_CBZIP2_SHIM_H
#include <bzlib.h>
#endif
