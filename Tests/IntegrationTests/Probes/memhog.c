// Allocates and touches memory in 4 MiB steps up to argv[1] MiB, printing progress.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int target = argc > 1 ? atoi(argv[1]) : 256;
    for (int mb = 4; mb <= target; mb += 4) {
        char *block = malloc(4 << 20);
        if (!block) { printf("malloc failed at %d MiB\n", mb); return 1; }
        memset(block, 1, 4 << 20);
        if (mb % 32 == 0) printf("touched %d MiB\n", mb);
    }
    printf("survived\n");
    return 0;
}
