/* The declarations shared by every supported ABI (bindgen input for src/generated/common.rs). */
#include "libcfs-types.h"
#include "cyaml.h"
