//! Child process of the crash test (`tests/tests/crash.rs`): opens the store in `Sync` mode,
//! resumes (or creates) its threads and appends batches until it is killed. Every acknowledged
//! append is printed as `A <thread> <first_position> <count>` before the next one is sent, so the
//! parent knows exactly what was acknowledged when it sends SIGKILL.
//!
//! Usage: `crash_writer <data dir | postgres:SCHEMA> <writers> <threads per writer> <seed>`
//! (`postgres:SCHEMA`: the store on that schema of the database `THREADSTORE_PG` names).
//! Item texts are `t<thread index>-s<seq>-b<batch>-<i>/<n>`: `seq` counts the thread's items from
//! 0 in send order, `b<batch>` names the append call and `<i>/<n>` the item's place in it.

use std::io::Write;
use std::sync::Arc;

use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, PostgresThreadStore, ReadThreadParams,
    ResumeThreadParams, RolloutItem, SledThreadStore, ThreadId, ThreadStore,
};

fn thread_id(index: usize) -> ThreadId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&0x7c7a_5e00_0000_0000u64.to_be_bytes());
    bytes[8..].copy_from_slice(&(index as u64).to_be_bytes());
    bytes[6] = 0x40 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    ThreadId::from_bytes(bytes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = &args[1];
    let writers: usize = args[2].parse().unwrap();
    let per_writer: usize = args[3].parse().unwrap();
    let seed: u64 = args[4].parse().unwrap();
    let store: Arc<dyn ThreadStore> = match dir.strip_prefix("postgres:") {
        Some(schema) => Arc::new(
            PostgresThreadStore::builder(std::env::var("THREADSTORE_PG").unwrap())
                .schema(schema)
                .search_index(false)
                .open()
                .await
                .unwrap(),
        ),
        None => Arc::new(SledThreadStore::open(dir).await.unwrap()),
    };
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, out) = (store.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = (seed ^ ((w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))) | 1;
            let mut threads = Vec::new();
            for k in 0..per_writer {
                let index = w * per_writer + k;
                let id = thread_id(index);
                let read = store
                    .read_thread(ReadThreadParams {
                        thread_id: id,
                        include_archived: true,
                        include_history: false,
                    })
                    .await;
                let writer = match read {
                    Ok(_) => store
                        .resume_thread(ResumeThreadParams {
                            thread_id: id,
                            include_archived: true,
                        })
                        .await
                        .unwrap(),
                    Err(_) => store
                        .create_thread(CreateThreadParams {
                            thread_id: Some(id),
                            ..Default::default()
                        })
                        .await
                        .unwrap(),
                };
                // Position 0 is the header; item seq = position - 1.
                threads.push((index, writer, writer.next_position - 1));
            }
            let mut batch = 0u64;
            loop {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let slot = (rng % threads.len() as u64) as usize;
                let n = 1 + (rng >> 32) % 4;
                let (index, writer, seq) = &mut threads[slot];
                let items = (0..n)
                    .map(|i| {
                        RolloutItem::agent_message(&format!(
                            "t{index}-s{}-b{batch}-{}/{n}",
                            *seq + i,
                            i + 1
                        ))
                    })
                    .collect();
                let mut p = AppendThreadItemsParams::new(writer.thread_id, items);
                p.writer_epoch = Some(writer.epoch);
                p.expected_position = Some(*seq + 1);
                let r = store.append_items(p).await.unwrap();
                *seq += n;
                batch += 1;
                let mut o = out.lock().unwrap();
                writeln!(
                    o,
                    "A {} {} {}",
                    writer.thread_id, r.first_position, r.item_count
                )
                .unwrap();
                o.flush().unwrap();
            }
        }));
    }
    println!("READY");
    for t in tasks {
        t.await.unwrap();
    }
}
