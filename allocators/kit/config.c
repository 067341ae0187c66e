/* config.c: what every backend's create shares: the one-line reason for a refusal. */
#include "hl_kit.h"

#include <stdarg.h>
#include <stdio.h>

void hl_config_say(const hl_config *config, const char *fmt, ...)
{
    if (!config->error_message || !config->error_capacity) return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(config->error_message, config->error_capacity, fmt, args);
    va_end(args);
}
