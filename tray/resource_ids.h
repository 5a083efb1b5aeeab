// Resource ids shared by tray.rc and the code that loads them.
#pragma once

#define IDI_TANDEM_GREEN 101
#define IDI_TANDEM_AMBER 102
#define IDI_TANDEM_RED 103
#define IDI_TANDEM_GREY 104
