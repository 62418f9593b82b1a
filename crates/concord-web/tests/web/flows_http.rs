//! Clinical workflow rules over HTTP (real socket, production router):
//! a signed note is locked (edits refused, nothing stored) and takes
//! addenda; a slot cannot be booked twice; cancel frees it; check-in
//! starts an encounter; a refused prescription stores nothing.

use concord_auth::Role;
use serde_json::json;

use crate::support::{hidden, resources, Browser, Clinic};

async fn signed_in(clinic: &Clinic, name: &str) -> Browser {
    let user = clinic.staff(name, Role::Physician, true).await;
    let mut b = Browser::new(&clinic.app.base);
    b.sign_in(&user).await;
    b
}

async fn csrf(b: &mut Browser, path: &str) -> String {
    let (status, page, _) = b.get(path).await;
    assert_eq!(status, 200, "GET {path}: {page}");
    hidden(&page, "_csrf").expect("page has a CSRF token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_note_is_locked_and_takes_an_addendum() {
    let clinic = Clinic::new().await;
    let mut b = signed_in(&clinic, "dr.lock").await;
    let ada = clinic.patients[0].clone();
    let visit = format!("/ui/patients/{ada}/visit");
    let token = csrf(&mut b, &visit).await;
    let (status, _, location) = b
        .post(
            &visit,
            &[
                ("_csrf", &token),
                ("template", "general"),
                ("reason", "Cough"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let note_path = location.unwrap();
    let id = note_path.rsplit('/').next().unwrap().to_string();
    let fields = |t: &str| {
        vec![
            ("_csrf".to_string(), t.to_string()),
            ("title".into(), "Visit".into()),
            ("subjective".into(), "Cough for 3 days".into()),
            ("objective".into(), "".into()),
            ("assessment".into(), "".into()),
            ("plan".into(), "Fluids".into()),
        ]
    };
    let token = csrf(&mut b, &note_path).await;
    let f = fields(&token);
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(b.post(&note_path, &f).await.0, 303);
    // An unknown diagnosis code is refused with a message.
    let (status, page, _) = b
        .post(
            &format!("{note_path}/diagnosis"),
            &[("_csrf", &token), ("code", "E11")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("E11 is not a billable ICD-10-CM code"),
        "{page}"
    );
    assert_eq!(
        b.post(&format!("{note_path}/sign"), &[("_csrf", &token)])
            .await
            .0,
        303
    );
    let signed = clinic.api(&format!("Composition/{id}")).await;
    assert_eq!(signed["status"], "final");
    let version = signed["meta"]["versionId"].clone();

    // Locked: edit, diagnosis and a second signature are refused; nothing changes.
    let (status, page, _) = b.post(&note_path, &f).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("signed and locked"));
    assert_eq!(
        b.post(
            &format!("{note_path}/diagnosis"),
            &[("_csrf", &token), ("code", "I10")]
        )
        .await
        .0,
        422
    );
    assert_eq!(
        b.post(&format!("{note_path}/sign"), &[("_csrf", &token)])
            .await
            .0,
        422
    );
    let after = clinic.api(&format!("Composition/{id}")).await;
    assert_eq!(after["meta"]["versionId"], version);
    assert!(resources(
        &clinic
            .api(&format!("Condition?subject=Patient/{ada}"))
            .await
    )
    .is_empty());

    // Without the CSRF token nothing is accepted.
    assert_eq!(
        b.post(
            &format!("{note_path}/addendum"),
            &[("section", "plan"), ("text", "x")]
        )
        .await
        .0,
        403
    );

    // Addendum: a new note that appends to the signed one.
    let (status, _, location) = b
        .post(
            &format!("{note_path}/addendum"),
            &[
                ("_csrf", &token),
                ("section", "plan"),
                ("text", "Chest X-ray normal."),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let add_id = location.unwrap().rsplit('/').next().unwrap().to_string();
    let add = clinic.api(&format!("Composition/{add_id}")).await;
    assert_eq!(add["relatesTo"][0]["code"], "appends");
    assert_eq!(
        add["relatesTo"][0]["targetReference"]["reference"],
        format!("Composition/{id}")
    );
    assert_eq!(add["status"], "preliminary");
    let (_, page, _) = b.get(&note_path).await;
    assert!(
        page.contains(&format!("/ui/notes/{add_id}")),
        "the signed note lists its addendum"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_are_taken_once_freed_on_cancel_and_check_in_starts_an_encounter() {
    let clinic = Clinic::new().await;
    let mut b = signed_in(&clinic, "dr.sched").await;
    let (ada, bruno) = (clinic.patients[0].clone(), clinic.patients[1].clone());
    let site = clinic
        .app
        .engine
        .create(
            &clinic.app.context(),
            "Location",
            json!({"resourceType": "Location", "name": "Annex"}),
            None,
        )
        .await
        .unwrap()
        .id;
    let token = csrf(&mut b, "/ui/schedule").await;
    let practitioner = format!("Practitioner/{}", clinic.practitioner);
    let location = format!("Location/{site}");
    let mut setup = vec![
        ("_csrf", token.as_str()),
        ("practitioner", practitioner.as_str()),
        ("location", location.as_str()),
        ("from", "2026-03-02"),
        ("days", "1"),
        ("start", "09:00"),
        ("end", "10:00"),
        ("minutes", "30"),
    ];
    setup.push(("weekday", "Mon"));
    let (status, page, _) = b.post("/ui/schedule/setup", &setup).await;
    assert_eq!(status, 303, "{page}");
    let schedules = resources(&clinic.api(&format!("Schedule?actor={practitioner}")).await);
    let sid = schedules[0]["id"].as_str().unwrap();
    let slots = resources(
        &clinic
            .api(&format!("Slot?schedule=Schedule/{sid}&_sort=start"))
            .await,
    );
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[0]["start"], "2026-03-02T09:00:00Z");
    // No patient chosen yet: the slots are listed without Book buttons.
    let day = format!("/ui/schedule?date=2026-03-02&actor={practitioner}");
    let (_, page, _) = b.get(&day).await;
    assert_eq!(page.matches("Book 09:").count(), 0, "{page}");
    assert_eq!(page.matches("Choose a patient above to book.").count(), 2);
    // The picker: search by name (and by MRN), choose, then book.
    let (_, page, _) = b.get(&format!("{day}&pname=zimmer")).await;
    assert!(page.contains("id=\"patient-picker\""), "{page}");
    assert!(page.contains(&format!("data-id=\"{ada}\"")), "{page}");
    assert!(!page.contains(&format!("data-id=\"{bruno}\"")));
    // A patient outside the care team is not offered.
    assert!(
        !page.contains(&format!("data-id=\"{}\"", clinic.stranger)),
        "{page}"
    );
    let (_, page, _) = b.get(&format!("{day}&pmrn=MRN-Quinterro")).await;
    assert!(
        page.contains(&format!("data-id=\"{bruno}\""))
            && !page.contains(&format!("data-id=\"{ada}\"")),
        "{page}"
    );
    let (_, page, _) = b.get(&format!("{day}&pbirth=1961-13-40")).await;
    assert!(page.contains("Birth date must be a date"), "{page}");
    let (_, page, _) = b.get(&format!("{day}&patient={ada}")).await;
    assert!(
        page.contains("Booking for <strong>Zimmerman, Ada</strong>"),
        "{page}"
    );
    assert_eq!(
        page.matches("Book 09:").count(),
        2,
        "both free slots offered: {page}"
    );
    assert_eq!(
        page.matches(&format!("name=\"patient\" value=\"{ada}\""))
            .count(),
        3,
        "the chosen id in the picker form and in each Book form: {page}"
    );
    // Each form returns to this day with the patient still chosen.
    let back_to = page
        .split("name=\"back\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a Book form says where to return")
        .replace("&amp;", "&");
    assert!(back_to.contains(&format!("patient={ada}")), "{back_to}");
    // Choosing someone the user may not see chooses nobody.
    let (_, page, _) = b.get(&format!("{day}&patient={}", clinic.stranger)).await;
    assert!(!page.contains("Booking for") && page.matches("Book 09:").count() == 0);
    let (s0, s1) = (
        slots[0]["id"].as_str().unwrap(),
        slots[1]["id"].as_str().unwrap(),
    );

    let book = |slot: &str, pid: &str| {
        vec![
            ("_csrf".to_string(), token.clone()),
            ("slot".into(), slot.to_string()),
            ("patient".into(), pid.to_string()),
            ("reason".into(), "Check-up".into()),
        ]
    };
    let mut f = book(s0, &ada);
    f.push(("back".into(), back_to.clone()));
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, _, location) = b.post("/ui/schedule/book", &f).await;
    assert_eq!(status, 303);
    let location = location.expect("a redirect");
    assert!(location.starts_with(&back_to), "{location}");
    let (_, page, _) = b.get(&location).await;
    assert!(
        page.contains("Booking for <strong>Zimmerman, Ada</strong>"),
        "after booking, the patient stays chosen: {page}"
    );
    // The same slot for someone else: refused, nothing stored.
    let f2 = book(s0, &bruno);
    let f2: Vec<(&str, &str)> = f2.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, page, _) = b.post("/ui/schedule/book", &f2).await;
    assert_eq!(status, 422);
    assert!(page.contains("no longer free"));
    assert!(resources(
        &clinic
            .api(&format!("Appointment?patient=Patient/{bruno}"))
            .await
    )
    .is_empty());
    let appt = &resources(
        &clinic
            .api(&format!("Appointment?patient=Patient/{ada}"))
            .await,
    )[0];
    let aid = appt["id"].as_str().unwrap().to_string();
    assert_eq!(clinic.api(&format!("Slot/{s0}")).await["status"], "busy");

    // The day list of the site shows it.
    let (_, page, _) = b
        .get(&format!("/ui/schedule?date=2026-03-02&actor={location}"))
        .await;
    assert!(page.contains(&format!("data-id=\"{aid}\"")));

    // Reschedule to the other slot: the first is free again.
    assert_eq!(
        b.post(
            "/ui/schedule/reschedule",
            &[("_csrf", &token), ("appointment", &aid), ("slot", s1)]
        )
        .await
        .0,
        303
    );
    assert_eq!(clinic.api(&format!("Slot/{s0}")).await["status"], "free");
    assert_eq!(clinic.api(&format!("Slot/{s1}")).await["status"], "busy");
    assert_eq!(
        clinic.api(&format!("Appointment/{aid}")).await["start"],
        "2026-03-02T09:30:00Z"
    );

    // Check-in: arrived, and an encounter linked to the appointment.
    assert_eq!(
        b.post(
            "/ui/schedule/check-in",
            &[("_csrf", &token), ("appointment", &aid)]
        )
        .await
        .0,
        303
    );
    assert_eq!(
        clinic.api(&format!("Appointment/{aid}")).await["status"],
        "arrived"
    );
    let enc = resources(
        &clinic
            .api(&format!("Encounter?appointment=Appointment/{aid}"))
            .await,
    );
    assert_eq!(enc.len(), 1);
    assert_eq!(enc[0]["status"], "arrived");
    assert_eq!(enc[0]["subject"]["reference"], format!("Patient/{ada}"));

    // Cancel a new booking: the slot is free again.
    let f = book(s0, &bruno);
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(b.post("/ui/schedule/book", &f).await.0, 303);
    let bid = resources(
        &clinic
            .api(&format!("Appointment?patient=Patient/{bruno}"))
            .await,
    )[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        b.post(
            "/ui/schedule/cancel",
            &[("_csrf", &token), ("appointment", &bid), ("reason", "")]
        )
        .await
        .0,
        422,
        "a reason is required"
    );
    assert_eq!(
        b.post(
            "/ui/schedule/cancel",
            &[
                ("_csrf", &token),
                ("appointment", &bid),
                ("reason", "Patient request")
            ]
        )
        .await
        .0,
        303
    );
    assert_eq!(
        clinic.api(&format!("Appointment/{bid}")).await["status"],
        "cancelled"
    );
    assert_eq!(clinic.api(&format!("Slot/{s0}")).await["status"], "free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_tasks_are_created_assigned_and_completed_once() {
    let clinic = Clinic::new().await;
    let mut b = signed_in(&clinic, "dr.tasks").await;
    let ada = clinic.patients[0].clone();
    let me = format!("Practitioner/{}", clinic.practitioner);
    let token = csrf(&mut b, "/ui/tasks").await;
    // Refused: no description.
    let (status, page, _) = b
        .post(
            "/ui/tasks",
            &[
                ("_csrf", &token),
                ("description", " "),
                ("owner", ""),
                ("patient", ""),
            ],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("description: is required"));
    let (status, _, _) = b
        .post(
            "/ui/tasks",
            &[
                ("_csrf", &token),
                ("description", "Call Ada about her potassium"),
                ("owner", ""),
                ("patient", &ada),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let stored = resources(
        &clinic
            .api(&format!(
                "Task?requester={me}&code=urn:concord:task-kind|staff-task"
            ))
            .await,
    );
    assert_eq!(stored.len(), 1);
    let t = &stored[0];
    assert_eq!(t["status"], "requested");
    assert_eq!(t["for"]["reference"], format!("Patient/{ada}"));
    let id = t["id"].as_str().unwrap().to_string();

    // Assign to me: it shows under "Assigned to me".
    let (status, page, _) = b
        .post(
            "/ui/tasks/assign",
            &[
                ("_csrf", &token),
                ("task", &id),
                ("version", "1"),
                ("owner", &clinic.practitioner),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    let (_, page, _) = b.get("/ui/tasks").await;
    let mine = page.split("id=\"my-tasks\"").nth(1).unwrap_or("");
    assert!(mine.contains("Call Ada about her potassium"));

    // Complete at version 2; a second completion from the stale page loses.
    assert_eq!(
        b.post(
            "/ui/tasks/complete",
            &[
                ("_csrf", &token),
                ("task", &id),
                ("version", "2"),
                ("note", "Left a message")
            ]
        )
        .await
        .0,
        303
    );
    let (status, _, _) = b
        .post(
            "/ui/tasks/complete",
            &[
                ("_csrf", &token),
                ("task", &id),
                ("version", "2"),
                ("note", "again"),
            ],
        )
        .await;
    assert!(status == 409 || status == 422, "stale or closed: {status}");
    let done = clinic.api(&format!("Task/{id}")).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["owner"]["reference"], me);
    assert_eq!(done["note"].as_array().map(Vec::len), Some(1));
    assert_eq!(done["meta"]["versionId"], "3");
}

/// The API's view of the Communications (as the operator).
async fn communications(clinic: &Clinic, query: &str) -> Vec<serde_json::Value> {
    resources(&clinic.api(&format!("Communication?{query}")).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_messages_are_sent_read_and_answered() {
    let clinic = Clinic::new().await;
    let nurse_practitioner = clinic
        .app
        .engine
        .create(
            &clinic.app.context(),
            "Practitioner",
            json!({"resourceType": "Practitioner", "name": [{"family": "Seacole", "given": ["Mary"]}]}),
            None,
        )
        .await
        .unwrap()
        .id;
    let nurse_ref = format!("Practitioner/{nurse_practitioner}");
    let doctor_ref = format!("Practitioner/{}", clinic.practitioner);
    let mut dr = signed_in(&clinic, "dr.msg").await;
    let nurse_user = clinic
        .staff_as("nurse.msg", Role::Nurse, Some(nurse_ref.clone()))
        .await;
    let mut nurse = Browser::new(&clinic.app.base);
    nurse.sign_in(&nurse_user).await;

    // The compose form offers the directory.
    let (status, page, _) = dr.get("/ui/messages").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Mary Seacole"), "{page}");
    let token = hidden(&page, "_csrf").unwrap();

    // Without the CSRF token nothing is sent.
    let (status, _, _) = dr
        .post(
            "/ui/messages",
            &[
                ("recipient", nurse_ref.as_str()),
                ("priority", "urgent"),
                ("topic", "x"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(communications(&clinic, "").await.is_empty());

    // No text: refused with a message, nothing stored.
    let (status, page, _) = dr
        .post(
            "/ui/messages",
            &[
                ("_csrf", &token),
                ("recipient", &nurse_ref),
                ("priority", "routine"),
                ("topic", "Empty"),
                ("text", " "),
            ],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("text"), "{page}");
    assert!(communications(&clinic, "").await.is_empty());

    // Send a staff-to-staff message.
    let (status, page, location) = dr
        .post(
            "/ui/messages",
            &[
                ("_csrf", &token),
                ("recipient", &nurse_ref),
                ("priority", "urgent"),
                ("patient", ""),
                ("topic", "Flu clinic rota"),
                ("text", "Can you cover Saturday morning?"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(location.as_deref(), Some("/ui/messages?done=sent"));
    let sent = communications(&clinic, &format!("recipient={nurse_ref}")).await;
    assert_eq!(sent.len(), 1);
    let msg = &sent[0];
    let id = msg["id"].as_str().unwrap().to_string();
    assert_eq!(msg["sender"]["reference"], doctor_ref.as_str());
    assert_eq!(msg["priority"], "urgent");
    assert_eq!(msg["status"], "completed");
    assert!(
        msg.get("subject").is_none(),
        "a staff message names no patient"
    );
    assert!(msg.get("received").is_none());
    assert_eq!(
        msg["payload"][0]["contentString"],
        "Can you cover Saturday morning?"
    );

    // The recipient sees it in the inbox, unread; the sender in "Sent".
    let (_, page, _) = nurse.get("/ui/messages").await;
    assert!(page.contains("Flu clinic rota"), "{page}");
    assert!(page.contains("(1 unread)"), "{page}");
    assert!(
        page.contains(&format!("data-id=\"{id}\" class=\"unread\"")),
        "{page}"
    );
    let (_, page, _) = dr.get("/ui/messages").await;
    assert!(
        page.contains("(0 unread)") && page.contains("Flu clinic rota"),
        "{page}"
    );

    // The sender opening it does not mark it read; the recipient does.
    assert_eq!(dr.get(&format!("/ui/messages/{id}")).await.0, 200);
    assert!(clinic
        .api(&format!("Communication/{id}"))
        .await
        .get("received")
        .is_none());
    let (status, page, _) = nurse.get(&format!("/ui/messages/{id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Can you cover Saturday morning?"));
    let read = clinic.api(&format!("Communication/{id}")).await;
    assert!(read["received"].is_string(), "{read}");
    assert_eq!(read["meta"]["versionId"], "2");
    // Opening it again changes nothing.
    nurse.get(&format!("/ui/messages/{id}")).await;
    assert_eq!(
        clinic.api(&format!("Communication/{id}")).await["meta"]["versionId"],
        "2"
    );
    let (_, page, _) = nurse.get("/ui/messages").await;
    assert!(page.contains("(0 unread)"), "{page}");

    // Reply: a new Communication in response to the first, back to the sender.
    let token_n = hidden(&page, "_csrf").unwrap();
    let (status, _, _) = nurse
        .post(
            &format!("/ui/messages/{id}/reply"),
            &[("_csrf", &token_n), ("text", "Yes, I can.")],
        )
        .await;
    assert_eq!(status, 303);
    let replies = communications(&clinic, &format!("recipient={doctor_ref}")).await;
    assert_eq!(replies.len(), 1);
    let reply = &replies[0];
    assert_eq!(
        reply["inResponseTo"][0]["reference"],
        format!("Communication/{id}")
    );
    assert_eq!(reply["sender"]["reference"], nurse_ref.as_str());
    assert_eq!(reply["topic"]["text"], "Re: Flu clinic rota");
    let reply_id = reply["id"].as_str().unwrap();
    let (_, page, _) = dr.get("/ui/messages").await;
    assert!(
        page.contains("Re: Flu clinic rota") && page.contains("(1 unread)"),
        "{page}"
    );
    let (_, page, _) = dr.get(&format!("/ui/messages/{reply_id}")).await;
    assert!(
        page.contains("In reply to") && page.contains("Can you cover Saturday morning?"),
        "{page}"
    );

    // A message about a patient carries the subject, and obeys the care
    // team: the nurse does not treat Ada, so does not see it.
    let ada = clinic.patients[0].clone();
    let (status, page, _) = dr
        .post(
            "/ui/messages",
            &[
                ("_csrf", &token),
                ("recipient", &nurse_ref),
                ("priority", "routine"),
                ("patient", &ada),
                ("topic", "Potassium"),
                ("text", "Please recheck"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    let about = communications(&clinic, &format!("subject=Patient/{ada}")).await;
    assert_eq!(about.len(), 1);
    let about_id = about[0]["id"].as_str().unwrap();
    let (_, page, _) = nurse.get("/ui/messages").await;
    assert!(!page.contains("Potassium"), "{page}");
    assert_eq!(nurse.get(&format!("/ui/messages/{about_id}")).await.0, 404);
    // Nor may the doctor write about a patient outside their care team.
    let (status, _, _) = dr
        .post(
            "/ui/messages",
            &[
                ("_csrf", &token),
                ("recipient", &nurse_ref),
                ("priority", "routine"),
                ("patient", &clinic.stranger),
                ("topic", "Stranger"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        communications(&clinic, &format!("subject=Patient/{}", clinic.stranger))
            .await
            .is_empty()
    );

    // Front desk has no access to clinical messages: no menu entry, refused.
    let desk_user = clinic.staff("desk.msg", Role::FrontDesk, true).await;
    let mut desk = Browser::new(&clinic.app.base);
    desk.sign_in(&desk_user).await;
    let (_, home, _) = desk.get("/ui/").await;
    assert!(!home.contains("/ui/messages"), "{home}");
    assert_eq!(desk.get("/ui/messages").await.0, 403);
    assert_eq!(desk.get(&format!("/ui/messages/{id}")).await.0, 404);
    let (_, page, _) = desk.get("/ui/").await;
    let desk_token = hidden(&page, "_csrf").unwrap_or_default();
    let (status, _, _) = desk
        .post(
            "/ui/messages",
            &[
                ("_csrf", &desk_token),
                ("recipient", &nurse_ref),
                ("priority", "routine"),
                ("topic", "Hi"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(communications(&clinic, "").await.len(), 3);
}
