// A tree of processes and threads that all sleep, tagged with argv[1].
#include <pthread.h>
#include <unistd.h>
static void *sleeper(void *arg) { (void)arg; for (;;) pause(); return NULL; }
int main(int argc, char **argv) {
    (void)argc; (void)argv;
    for (int i = 0; i < 3; i++) {
        if (fork() == 0) {
            pthread_t t;
            pthread_create(&t, NULL, sleeper, NULL);
            for (;;) pause();
        }
    }
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    for (;;) pause();
}
