// Appends a counter to a file every 20 ms, for stop/continue and kill tests.
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
    FILE *out = fopen(argc > 1 ? argv[1] : "/out/ticks", "w");
    if (!out) return 1;
    for (long i = 0;; i++) {
        fprintf(out, "%ld\n", i);
        fflush(out);
        usleep(20000);
    }
}
