#include "fleet/fleet.h"
