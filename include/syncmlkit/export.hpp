// SMK_API marks what the shared library exports; everything else, the
// dependencies' symbols included, stays hidden (-fvisibility=hidden).
#pragma once

#if defined(SMK_STATIC)
#define SMK_API
#define SMK_HIDDEN
#elif defined(_WIN32)
#if defined(SMK_BUILDING)
#define SMK_API __declspec(dllexport)
#else
#define SMK_API __declspec(dllimport)
#endif
#define SMK_HIDDEN
#else
#define SMK_API __attribute__((visibility("default")))
// A member class of an SMK_API class that is no API (its Impl): its members
// would otherwise inherit the enclosing class's default visibility.
#define SMK_HIDDEN __attribute__((visibility("hidden")))
#endif
