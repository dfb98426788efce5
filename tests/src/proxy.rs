//! A TCP proxy a test can cut and restore, to make a database unreachable
//! for a while without stopping it (other tests share it).

use std::{net::SocketAddr, sync::Arc};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Mutex, watch},
    task::JoinHandle,
};

pub struct TcpProxy {
    pub address: SocketAddr,
    target: SocketAddr,
    /// `true` while connections are allowed; cutting closes the open ones too.
    open: watch::Sender<bool>,
    listener_task: Mutex<Option<JoinHandle<()>>>,
}

impl TcpProxy {
    /// Listens on a free local port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let (open, _) = watch::channel(true);
        let proxy = Arc::new(Self { address, target, open, listener_task: Mutex::new(None) });
        proxy.serve(listener).await;
        proxy
    }

    async fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let open = self.open.subscribe();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut open = open.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else { return };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = open.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        *self.listener_task.lock().await = Some(task);
    }

    /// Refuses new connections and drops the open ones.
    pub async fn cut(&self) {
        self.open.send_replace(false);
        if let Some(task) = self.listener_task.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts connections again, on the same address.
    pub async fn restore(&self) {
        self.open.send_replace(true);
        let listener = TcpListener::bind(self.address).await.expect("bind the proxy's address again");
        self.serve(listener).await;
    }
}
