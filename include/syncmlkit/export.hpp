// SMK_API marks what the shared library exports; everything else, the
// dependencies' symbols included, stays hidden (-fvisibility=hidden).
#pragma once

#if defined(SMK_STATIC)
#define SMK_API
#elif defined(_WIN32)
#if defined(SMK_BUILDING)
#define SMK_API __declspec(dllexport)
#else
#define SMK_API __declspec(dllimport)
#endif
#else
#define SMK_API __attribute__((visibility("default")))
#endif
