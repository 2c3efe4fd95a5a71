// A thread names itself by its tid, as Linux lets it: kill(tid, 0),
// getpriority/setpriority(PRIO_PROCESS, tid), the sched_* calls, and a
// thread created with PTHREAD_EXPLICIT_SCHED (it sets its own policy on its
// tid). Prints name=ok or name=<error>.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long result) {
    printf("%s=%s\n", name, result < 0 ? strerror(errno) : "ok");
}

static void *named_by_tid(void *unused) {
    (void)unused;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    printf("secondary=%d\n", tid != getpid());
    report("kill", kill(tid, 0));
    errno = 0;
    int priority = getpriority(PRIO_PROCESS, (id_t)tid);
    report("getpriority", priority == -1 && errno ? -1 : 0);
    report("setpriority", setpriority(PRIO_PROCESS, (id_t)tid, 5));
    struct sched_param param = { 0 };
    report("sched_getscheduler", sched_getscheduler(tid));
    report("sched_setscheduler", sched_setscheduler(tid, SCHED_BATCH, &param));
    report("sched_getparam", sched_getparam(tid, &param));
    struct rlimit limit;
    report("prlimit", prlimit(tid, RLIMIT_NOFILE, NULL, &limit));
    report("getsid", getsid(tid));
    return NULL;
}

static void *explicit(void *unused) { (void)unused; return (void *)1; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_t thread;
    pthread_create(&thread, NULL, named_by_tid, NULL);
    pthread_join(thread, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
    struct sched_param param = { 0 };
    pthread_attr_setschedparam(&attr, &param);
    void *result = NULL;
    int created = pthread_create(&thread, &attr, explicit, NULL);
    if (created == 0) pthread_join(thread, &result);
    printf("explicit_sched=%s\n", created ? strerror(created) : result == (void *)1 ? "ok" : "bad");
    errno = 0;
    report("kill_outside", kill(99999, 0));
    return 0;
}
