// send() on connected sockets (sendto with no address) and sendto to a
// unix socket path: every message arrives. `sends N` does N of the first and
// 10 of the second.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 1000;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) return 1;
    int received = 0;
    char byte;
    for (int i = 0; i < count; i++) {
        if (send(pair[0], "x", 1, 0) != 1) return 2;
        received += (int)recv(pair[1], &byte, 1, 0);
    }
    int server = socket(AF_UNIX, SOCK_DGRAM, 0), client = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    strcpy(address.sun_path, "/tmp/sends.sock");
    unlink(address.sun_path);
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0) return 3;
    int datagrams = 0;
    for (int i = 0; i < 10; i++) {
        if (sendto(client, "y", 1, 0, (struct sockaddr *)&address, sizeof address) != 1) return 4;
        datagrams += (int)recv(server, &byte, 1, 0);
    }
    printf("sent=%d received=%d datagrams=%d\n", count, received, datagrams);
    return 0;
}
