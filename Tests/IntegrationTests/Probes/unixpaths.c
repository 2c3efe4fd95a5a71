// Unix socket paths through the sentry: a datagram sent with sendto to a
// bound path, a stream connected by a relative path from another cwd, and
// the names getsockname/getpeername report; the ids a peer sees of a
// process that changed its own (SO_PEERCRED, SCM_CREDENTIALS).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);  // lines reach the test even if a step hangs
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
        printf("passcred %u %u %s\n", peer.uid, peer.gid, peer.pid == child ? "pid" : "otherpid");
    }
    int status;
    waitpid(child, &status, 0);
    if (WEXITSTATUS(status) != 0) return 1;

    // Control messages through the sentry: an fd passed with SCM_RIGHTS
    // works on the other side; SCM_CREDENTIALS may claim our own pid, not
    // another's without CAP_SYS_ADMIN.
    strcpy(addr.sun_path, "/tmp/dgram.sock");
    int pipefd[2];
    pipe(pipefd);
    union { char bytes[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr align; } out;
    memset(&out, 0, sizeof out);
    struct msghdr message2 = { .msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = &part, .msg_iovlen = 1,
                               .msg_control = out.bytes, .msg_controllen = CMSG_SPACE(sizeof(int)) };
    part.iov_base = "fd";
    part.iov_len = 2;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message2);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &pipefd[1], sizeof(int));
    if (sendmsg(sender, &message2, 0) != 2) { perror("sendmsg SCM_RIGHTS"); return 1; }
    close(pipefd[1]);
    union { char bytes[256]; struct cmsghdr align; } in;
    struct iovec into = { buf, sizeof buf };
    struct msghdr got = { .msg_iov = &into, .msg_iovlen = 1, .msg_control = in.bytes, .msg_controllen = sizeof in.bytes };
    int passed = -1;
    if (recvmsg(receiver, &got, 0) == 2)
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&got); c; c = CMSG_NXTHDR(&got, c))
            if (c->cmsg_type == SCM_RIGHTS) memcpy(&passed, CMSG_DATA(c), sizeof passed);
    write(passed, "via fd", 6);
    close(passed);
    memset(buf, 0, sizeof buf);
    read(pipefd[0], buf, sizeof buf - 1);
    printf("rights %s\n", buf);

    struct ucred claim = { getpid(), getuid(), getgid() };
    header->cmsg_type = SCM_CREDENTIALS;
    header->cmsg_len = CMSG_LEN(sizeof claim);
    message2.msg_controllen = CMSG_SPACE(sizeof claim);
    memcpy(CMSG_DATA(header), &claim, sizeof claim);
    long own = sendmsg(sender, &message2, 0);
    got.msg_controllen = sizeof in.bytes;
    recvmsg(receiver, &got, 0);
    claim.pid = child;
    memcpy(CMSG_DATA(header), &claim, sizeof claim);
    long other = sendmsg(sender, &message2, 0);
    printf("creds own %ld other %s\n", own, other < 0 ? strerrorname_np(errno) : "sent");

    // sendmmsg: two datagrams in one call.
    struct iovec first = { "m1", 2 }, second = { "m2", 2 };
    struct mmsghdr batch[2] = {
        { .msg_hdr = { .msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = &first, .msg_iovlen = 1 } },
        { .msg_hdr = { .msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = &second, .msg_iovlen = 1 } },
    };
    int batched = sendmmsg(sender, batch, 2, 0);
    char one[8] = { 0 }, two[8] = { 0 };
    recv(receiver, one, sizeof one - 1, 0);
    recv(receiver, two, sizeof two - 1, 0);
    printf("mmsg %d %u %u %s %s\n", batched, batch[0].msg_len, batch[1].msg_len, one, two);
    return 0;
}
