//! A listening TCP socket for the Reloader's socket hand-off.
//!
//! The socket is bound and put in listening state here, outside Node's event loop, so the parent
//! never accepts on it: passed to each new child as file descriptor 3, it is accepted only by the
//! child, and connections that arrive while the child restarts wait in the kernel's backlog.

use napi::{Error, Result, Status};
use napi_derive::napi;

/// Binds `host:port` and listens; returns the descriptor. The caller closes it with
/// `closeListener` when the reloader stops.
#[napi]
pub fn listen_tcp(host: String, port: u32) -> Result<i64> {
    let port = u16::try_from(port)
        .map_err(|_| Error::new(Status::InvalidArg, format!("port {port} is out of range")))?;
    let listener = std::net::TcpListener::bind((host.as_str(), port)).map_err(|err| {
        Error::new(Status::GenericFailure, format!("cannot listen on {host}:{port}: {err}"))
    })?;
    into_descriptor(listener)
}

/// The port a listening descriptor is bound to (useful when binding port 0).
#[napi]
pub fn listener_port(fd: i64) -> Result<u32> {
    let listener = borrow(fd)?;
    let port = listener.local_addr().map(|a| u32::from(a.port()));
    std::mem::forget(listener);
    port.map_err(|err| Error::new(Status::GenericFailure, err.to_string()))
}

/// Closes a descriptor returned by `listenTcp`.
#[napi]
pub fn close_listener(fd: i64) -> Result<()> {
    drop(borrow(fd)?);
    Ok(())
}

#[cfg(unix)]
fn into_descriptor(listener: std::net::TcpListener) -> Result<i64> {
    use std::os::fd::IntoRawFd;
    Ok(i64::from(listener.into_raw_fd()))
}

#[cfg(unix)]
fn borrow(fd: i64) -> Result<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    let fd = i32::try_from(fd).map_err(|_| Error::new(Status::InvalidArg, "bad descriptor"))?;
    // SAFETY: only descriptors returned by `listen_tcp` reach here (the TypeScript side keeps
    // them private to the Reloader), and each is closed once.
    Ok(unsafe { std::net::TcpListener::from_raw_fd(fd) })
}

#[cfg(not(unix))]
fn into_descriptor(_listener: std::net::TcpListener) -> Result<i64> {
    Err(Error::new(Status::GenericFailure, "socket hand-off needs a Unix system"))
}

#[cfg(not(unix))]
fn borrow(_fd: i64) -> Result<std::net::TcpListener> {
    Err(Error::new(Status::GenericFailure, "socket hand-off needs a Unix system"))
}
