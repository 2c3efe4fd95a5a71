// Unix socket paths through the sentry: a datagram sent with sendto to a
// bound path, a stream connected by a relative path from another cwd, and
// the names getsockname/getpeername report.
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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
    // sendmsg with the path in msg_name, two iovecs.
    strcpy(addr.sun_path, "/tmp/dgram.sock");
    struct iovec parts[2] = { { "po", 2 }, { "ng", 2 } };
    struct msghdr message = { .msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = parts, .msg_iovlen = 2 };
    memset(buf, 0, sizeof buf);
    if (sendmsg(sender, &message, 0) != 4 || recv(receiver, buf, sizeof buf - 1, 0) != 4) { perror("sendmsg"); return 1; }
    printf("sendmsg %s\n", buf);
    strcpy(addr.sun_path, "/tmp/none.sock");
    printf("missing %d\n", sendto(sender, "x", 1, 0, (struct sockaddr *)&addr, sizeof addr) == -1);
    return 0;
}
