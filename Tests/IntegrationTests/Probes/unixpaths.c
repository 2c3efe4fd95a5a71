// Unix socket paths through the sentry: a datagram sent with sendto to a
// bound path, a stream connected by a relative path from another cwd, and
// the names getsockname/getpeername report; the ids a peer sees of a
// process that changed its own (SO_PEERCRED, SCM_CREDENTIALS).
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    struct sockaddr_un addr = { .sun_family = AF_UNIX }, name;
    socklen_t length = sizeof name;
    strcpy(addr.sun_path, "/tmp/dgram.sock");
    int receiver = socket(AF_UNIX, SOCK_DGRAM, 0), sender = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bind(receiver, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
    getsockname(receiver, (struct sockaddr *)&name, &length);
    printf("bound %s\n", name.sun_path);
    if (sendto(sender, "ping", 4, 0, (struct sockaddr *)&addr, sizeof addr) != 4) { perror("sendto"); return 1; }
    char buf[16] = { 0 };
    recv(receiver, buf, sizeof buf - 1, 0);
    printf("received %s\n", buf);

    chdir("/tmp");
    strcpy(addr.sun_path, "stream.sock");
    int server = socket(AF_UNIX, SOCK_STREAM, 0), client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 1) != 0) { perror("listen"); return 1; }
    chdir("/");
    strcpy(addr.sun_path, "tmp/stream.sock");
    if (connect(client, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
    length = sizeof name;
    getpeername(client, (struct sockaddr *)&name, &length);
    printf("peer %s\n", name.sun_path);
    close(accept(server, NULL, NULL));
    // sendmsg with the path in msg_name, two iovecs.
    strcpy(addr.sun_path, "/tmp/dgram.sock");
    struct iovec parts[2] = { { "po", 2 }, { "ng", 2 } };
    struct msghdr message = { .msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = parts, .msg_iovlen = 2 };
    memset(buf, 0, sizeof buf);
    if (sendmsg(sender, &message, 0) != 4 || recv(receiver, buf, sizeof buf - 1, 0) != 4) { perror("sendmsg"); return 1; }
    printf("sendmsg %s\n", buf);
    strcpy(addr.sun_path, "/tmp/none.sock");
    printf("missing %d\n", sendto(sender, "x", 1, 0, (struct sockaddr *)&addr, sizeof addr) == -1);

    // A child that became uid 4321 / gid 1234 connects and sends: the peer
    // must see those ids, never the ones of whoever made the call for it.
    int on = 1;
    setsockopt(receiver, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    chmod("/tmp/stream.sock", 0777);
    chmod("/tmp/dgram.sock", 0777);
    pid_t child = fork();
    if (child == 0) {
        if (setgid(1234) != 0 || setuid(4321) != 0) { perror("setuid"); _exit(1); }
        int other = socket(AF_UNIX, SOCK_STREAM, 0), datagrams = socket(AF_UNIX, SOCK_DGRAM, 0);
        strcpy(addr.sun_path, "/tmp/stream.sock");
        if (connect(other, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect as 4321"); _exit(1); }
        strcpy(addr.sun_path, "/tmp/dgram.sock");
        if (sendto(datagrams, "ids", 3, 0, (struct sockaddr *)&addr, sizeof addr) != 3) { perror("sendto as 4321"); _exit(1); }
        _exit(0);
    }
    int accepted = accept(server, NULL, NULL);
    struct ucred peer;
    length = sizeof peer;
    getsockopt(accepted, SOL_SOCKET, SO_PEERCRED, &peer, &length);
    printf("peercred %u %u\n", peer.uid, peer.gid);
    char control[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec part = { buf, sizeof buf };
    struct msghdr received = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    if (recvmsg(receiver, &received, 0) == 3 && CMSG_FIRSTHDR(&received)) {
        memcpy(&peer, CMSG_DATA(CMSG_FIRSTHDR(&received)), sizeof peer);
        printf("passcred %u %u\n", peer.uid, peer.gid);
    }
    int status;
    waitpid(child, &status, 0);
    return WEXITSTATUS(status);
}
