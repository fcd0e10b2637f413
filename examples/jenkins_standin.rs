//! The test suite's Jenkins stand-in as a program, for screenshots and rehearsals by hand.
//!
//! `jenkins_standin RESULT BUILD_SECONDS`: prints its URL on the first line, then serves job
//! `addons-stage-deploy` (user `andym`, token `t0k`) until killed. RESULT `hang` accepts
//! every connection and never answers.

#[path = "../tests/support/jenkins.rs"]
mod jenkins;

fn main() {
    let mut args = std::env::args().skip(1);
    let result = args.next().unwrap_or_else(|| "SUCCESS".into());
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let j = jenkins::Jenkins::start(jenkins::Config {
        job: "addons-stage-deploy".into(),
        result: result.clone(),
        queue_ms: 500,
        build_ms: secs * 1000,
        estimated_ms: secs * 1000 + 20_000,
        console_lines: vec![
            "Fetching the tag".into(),
            "Building the images".into(),
            "Running the migrations".into(),
            if result == "SUCCESS" {
                "Switching stage to the new release".into()
            } else {
                "ERROR: migration 0917_addon_approvals failed: column \"listed\" already exists"
                    .into()
            },
        ],
        ..Default::default()
    });
    if result == "hang" {
        j.set_fault(jenkins::Fault::Hang);
    }
    println!("{}", j.url());
    loop {
        std::thread::park();
    }
}
