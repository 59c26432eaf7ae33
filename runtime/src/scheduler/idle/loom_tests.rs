use super::*;
use crate::scheduler::inject::Inject;
use crate::scheduler::park::mock::{MockDriver, MockHandle};
use crate::scheduler::park::{mock::shared_driver, park_worker, Parker, ParkingWorker};
use loom::thread;
use std::sync::Arc;

type MockParker = Parker<MockDriver, MockHandle>;

/// The runtime's pieces the workers park against: their queues are one inject queue.
#[derive(Clone)]
struct Runtime {
    idle: Arc<Idle>,
    inject: Arc<Inject<usize>>,
    parkers: Arc<Vec<MockParker>>,
}

impl Runtime {
    fn new(workers: usize) -> Runtime {
        let driver = shared_driver();
        Runtime {
            idle: Arc::new(Idle::new(workers)),
            inject: Arc::new(Inject::new()),
            parkers: Arc::new((0..workers).map(|_| Parker::new(driver.clone())).collect()),
        }
    }

    /// `Shared::notify_parked`, with its preference for condvar sleepers.
    fn notify(&self) {
        let on_condvar = |i: usize| self.parkers[i].is_parked_on_condvar();
        if let Some(i) = self.idle.worker_to_notify(on_condvar) {
            self.parkers[i].unpark();
        }
    }

    /// A producer's push and notify.
    fn push(&self, v: usize) {
        assert!(self.inject.push(v));
        self.notify();
    }

    fn worker(&self, index: usize) -> Worker {
        Worker {
            rt: self.clone(),
            index,
        }
    }
}

struct Worker {
    rt: Runtime,
    index: usize,
}

impl Worker {
    /// The worker loop's steps 2-6 until it takes one item (`is_searching`: whether
    /// it counts as searching now): the queue, searching, then parking through the
    /// loop's own park step (`park::park_worker`, on the real `Parker`). Returns the
    /// item; the worker stays busy with it afterwards (it does not look at the queue
    /// again), after it stops searching as `run_task` does.
    fn take_one(&self, mut is_searching: bool) -> usize {
        let idle = &self.rt.idle;
        let got = loop {
            if let Some(v) = self.rt.inject.pop() {
                break v;
            }
            if !is_searching && idle.transition_worker_to_searching() {
                is_searching = true;
                continue; // re-check the queue as a searcher
            }
            is_searching = park_worker(self, is_searching);
        };
        if is_searching && idle.transition_worker_from_searching() && self.has_visible_work() {
            self.notify_parked();
        }
        got
    }
}

impl ParkingWorker for Worker {
    fn idle(&self) -> &Idle {
        &self.rt.idle
    }
    fn index(&self) -> usize {
        self.index
    }
    fn sleep(&self) {
        self.rt.parkers[self.index].park();
    }
    fn is_shutdown(&self) -> bool {
        false
    }
    fn has_visible_work(&self) -> bool {
        !self.rt.inject.is_empty()
    }
    fn has_local_work(&self) -> bool {
        false
    }
    fn notify_parked(&self) {
        self.rt.notify();
    }
}

/// One worker searching, then parking, against a producer that pushes to the inject
/// queue and notifies: the worker must get the item (no lost wake-up between "queue
/// looked empty" and "parked").
#[test]
fn loom_push_and_notify_vs_last_searcher_parking() {
    loom::model(|| {
        let rt = Runtime::new(1);
        let producer = {
            let rt = rt.clone();
            thread::spawn(move || rt.push(7))
        };
        assert_eq!(rt.worker(0).take_one(false), 7);
        producer.join().unwrap();
    });
}

/// Idle protocol 3: a searcher takes one item and stays busy with it, while a
/// producer pushes a second one (and, seeing the searcher, may notify nobody) and the
/// other worker is parked; the searcher's re-check on leaving, or the producer's
/// notify, must wake that worker, which takes the second item.
#[test]
fn loom_push_vs_last_searcher_leaving() {
    loom::model(|| {
        let rt = Runtime::new(2);
        assert!(rt.inject.push(1));
        assert!(!rt.idle.transition_worker_to_parked(1, false));
        assert!(rt.idle.transition_worker_to_searching());
        let parked = {
            let w = rt.worker(1);
            thread::spawn(move || {
                // `park_worker`'s sleep loop, already registered as a sleeper.
                while w.rt.idle.is_parked(1) {
                    w.sleep();
                }
                w.take_one(true) // its notifier counted it as searching
            })
        };
        let producer = {
            let rt = rt.clone();
            thread::spawn(move || rt.push(2))
        };
        let first = rt.worker(0).take_one(true);
        let second = parked.join().unwrap();
        producer.join().unwrap();
        assert_eq!(first + second, 3);
    });
}
