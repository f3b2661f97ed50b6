// jemalloc (Debian's libjemalloc-dev): linked by `tug`, so it is the process's malloc; `mallctl` reads its figures.
#include <jemalloc/jemalloc.h>
