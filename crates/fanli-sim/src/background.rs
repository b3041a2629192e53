//! A file written on a thread of its own.
//!
//! The 1M year writes 4 GB (`events.jsonl`, `state.json`); the kernel's copy of those bytes
//! into the page cache took 8–16 s of system time on the run's one thread, a third of its wall
//! time (BENCHMARKS.md, "The simulator's output on a second core"). [`Background`] hands
//! blocks of 1 MiB to a writer thread, so that copy runs on the other core while the engine
//! goes on. At most [`IN_FLIGHT`] blocks wait at a time: the memory is bounded, and a disk
//! slower than the engine slows the engine down rather than filling the memory.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

/// The size of a block handed to the writer thread.
const BLOCK: usize = 1 << 20;

/// How many blocks may wait for the writer thread.
const IN_FLIGHT: usize = 4;

/// A `Write` whose bytes reach the inner writer on another thread, in blocks of [`BLOCK`]
/// bytes, in order. [`Write::flush`] returns once every byte written before it is in the inner
/// writer (and the inner writer flushed); [`Background::finish`] does that and ends the thread.
/// The first error of the inner writer is returned by the next call after it; the bytes after
/// it are not written.
pub struct Background {
    block: Vec<u8>,
    full: Option<SyncSender<Message>>,
    done: Receiver<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    /// Blocks sent and not yet back.
    sent: usize,
    thread: Option<JoinHandle<io::Result<()>>>,
}

enum Message {
    Block(Vec<u8>),
    /// Flush the inner writer, then send an empty block back.
    Flush,
}

impl Background {
    /// Starts the writer thread for `inner`.
    pub fn new(mut inner: impl Write + Send + 'static) -> io::Result<Background> {
        let (full, blocks) = std::sync::mpsc::sync_channel::<Message>(IN_FLIGHT);
        let (back, done) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("fanli-write".to_owned()).spawn(move || {
            for message in blocks {
                let mut block = match message {
                    Message::Block(block) => {
                        inner.write_all(&block)?;
                        block
                    }
                    Message::Flush => {
                        inner.flush()?;
                        Vec::new()
                    }
                };
                block.clear();
                // The other end gone: it was dropped without `finish`.
                let _ = back.send(block);
            }
            inner.flush()
        })?;
        Ok(Background {
            block: Vec::with_capacity(BLOCK),
            full: Some(full),
            done,
            spare: Vec::new(),
            sent: 0,
            thread: Some(thread),
        })
    }

    /// Writes what is left, flushes the inner writer and ends the thread: its first error, if
    /// any.
    pub fn finish(mut self) -> io::Result<()> {
        self.send_block()?;
        self.full = None;
        self.join()
    }

    /// Hands the current block to the thread, and takes a fresh one.
    fn send_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        while let Ok(block) = self.done.try_recv() {
            self.sent -= 1;
            self.spare.push(block);
        }
        let fresh = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(BLOCK));
        let block = std::mem::replace(&mut self.block, fresh);
        self.send(Message::Block(block))
    }

    fn send(&mut self, message: Message) -> io::Result<()> {
        let full = self.full.as_ref().ok_or_else(|| io::Error::other("the writer thread has ended"))?;
        if full.send(message).is_err() {
            // The thread ended: it failed on an earlier block.
            return Err(self.join().err().unwrap_or_else(|| io::Error::other("the writer thread has ended")));
        }
        self.sent += 1;
        Ok(())
    }

    /// Waits for the thread to end (every sender dropped, or it failed): its result.
    fn join(&mut self) -> io::Result<()> {
        self.full = None;
        match self.thread.take() {
            Some(thread) => {
                thread.join().unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")))
            }
            None => Err(io::Error::other("the writer thread has ended")),
        }
    }
}

impl Write for Background {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.block.len() + bytes.len() > BLOCK {
            self.send_block()?;
        }
        self.block.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_block()?;
        self.send(Message::Flush)?;
        while self.sent > 0 {
            match self.done.recv() {
                Ok(block) => {
                    self.sent -= 1;
                    if block.capacity() > 0 {
                        self.spare.push(block);
                    }
                }
                Err(_) => {
                    return Err(self
                        .join()
                        .err()
                        .unwrap_or_else(|| io::Error::other("the writer thread has ended")));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Background {
    /// Like `BufWriter`'s: what is buffered is written, and an error then is lost (call
    /// [`Background::finish`] to see it).
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.send_block();
            let _ = self.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer into shared memory that fails once it holds `limit` bytes.
    #[derive(Clone)]
    struct Shared(Arc<Mutex<Vec<u8>>>, usize);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut held = self.0.lock().unwrap();
            if held.len() + bytes.len() > self.1 {
                return Err(io::Error::other("full"));
            }
            held.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_byte_arrives_in_order_and_flush_waits_for_them() {
        let out = Shared(Arc::default(), usize::MAX);
        let mut writer = Background::new(out.clone()).unwrap();
        let mut expected = Vec::new();
        // Writes of every size, some larger than a block, across many blocks.
        for i in 0..3_000u32 {
            let piece: Vec<u8> = (0..(i * 7919) % 5_000).map(|j| (i + j) as u8).collect();
            writer.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
            if i == 1_500 {
                writer.flush().unwrap();
                assert_eq!(*out.0.lock().unwrap(), expected, "after flush");
            }
        }
        writer.write_all(&vec![7; 3 * BLOCK]).unwrap();
        expected.extend(std::iter::repeat_n(7, 3 * BLOCK));
        writer.finish().unwrap();
        assert_eq!(out.0.lock().unwrap().len(), expected.len());
        assert!(*out.0.lock().unwrap() == expected);
    }

    #[test]
    fn the_inner_writers_error_comes_back() {
        let out = Shared(Arc::default(), 3 * BLOCK);
        let mut writer = Background::new(out.clone()).unwrap();
        let failed = (0..10 * 1024).try_for_each(|_| writer.write_all(&[1; 1024]));
        let error = match failed {
            Err(e) => e,
            Ok(()) => writer.finish().unwrap_err(),
        };
        assert_eq!(error.to_string(), "full");
        assert!(out.0.lock().unwrap().len() <= 3 * BLOCK);
    }
}
