//! Networking: TCP, UDP and Unix sockets on the mio reactor (work in progress).
