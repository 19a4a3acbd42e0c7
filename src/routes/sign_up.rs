//! Create an account: name, email and password. This device's cart comes along (the server
//! joins it to the new customer's cart, as at sign-in). A refusal names the field at fault: its
//! message is shown under that field (linked by `aria-describedby`, the field marked
//! `aria-invalid`) and focus moves there, so a screen reader reads the field and why. What was
//! typed stays in the fields.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::store::{capitalize, use_store};

/// The server's minimum (`weak_password`), checked here first to answer at once.
const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    Name,
    Email,
    Password,
}

/// A refusal: the field at fault (if any), the message, and whether signing in is the way on.
#[derive(Clone, Debug, PartialEq)]
struct Refusal {
    field: Option<Field>,
    message: String,
    taken: bool,
}

impl Refusal {
    fn of(code: &str, message: &str) -> Refusal {
        let field = match code {
            "invalid_name" => Some(Field::Name),
            "invalid_email" | "email_taken" => Some(Field::Email),
            "weak_password" => Some(Field::Password),
            _ => None,
        };
        Refusal {
            field,
            message: sentence(message),
            taken: code == "email_taken",
        }
    }
}

fn sentence(message: &str) -> String {
    let message = capitalize(message.trim());
    if message.ends_with(['.', '!', '?']) {
        message
    } else {
        format!("{message}.")
    }
}

/// What the page can tell before asking the server.
fn check(name: &str, email: &str, password: &str) -> Option<Refusal> {
    let refuse = |field, message: &str| {
        Some(Refusal {
            field: Some(field),
            message: message.to_owned(),
            taken: false,
        })
    };
    if name.trim().is_empty() {
        refuse(Field::Name, "Enter your name.")
    } else if email.trim().is_empty() {
        refuse(Field::Email, "Enter your email address.")
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        refuse(
            Field::Password,
            "Choose a password of at least 8 characters.",
        )
    } else {
        None
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let store = use_store();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<Refusal>);
    let busy = RwSignal::new(false);
    let refs = (
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
    );
    let focus = move |field: Field| {
        let input = match field {
            Field::Name => refs.0,
            Field::Email => refs.1,
            Field::Password => refs.2,
        };
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
        }
    };
    let refuse = move |r: Refusal| {
        let field = r.field;
        refusal.set(Some(r));
        if let Some(field) = field {
            focus(field);
        }
    };
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (n, e, p) = (
            name.get_untracked(),
            email.get_untracked(),
            password.get_untracked(),
        );
        if let Some(r) = check(&n, &e, &p) {
            refuse(r);
            return;
        }
        busy.set(true);
        refusal.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = store.sign_up(n, e, p).await;
            busy.set(false);
            match result {
                Ok(()) => navigate("/cart", Default::default()),
                Err(e) => refuse(Refusal::of(&e.code, &e.message)),
            }
        });
    };
    let error_of = move |field: Field| {
        move || {
            refusal.with(|r| {
                r.as_ref()
                    .filter(|r| r.field == Some(field))
                    .map(|r| r.message.clone())
            })
        }
    };
    let invalid = move |field: Field| {
        move || {
            refusal
                .with(|r| r.as_ref().is_some_and(|r| r.field == Some(field)))
                .to_string()
        }
    };
    let general = move || {
        refusal.with(|r| {
            r.as_ref()
                .filter(|r| r.field.is_none())
                .map(|r| r.message.clone())
        })
    };
    let taken = move || refusal.with(|r| r.as_ref().is_some_and(|r| r.taken));
    view! {
        <section class="narrow" aria-labelledby="sign-up-title">
            <h1 id="sign-up-title">"Create an account"</h1>
            <p>"Your cart comes with you, and follows you to every device you sign in on."</p>
            <form on:submit=submit novalidate>
                <label for="sign-up-name">"Name"</label>
                <input id="sign-up-name" node_ref=refs.0 type="text" autocomplete="name" required maxlength="100"
                    aria-describedby="sign-up-name-error" aria-invalid=invalid(Field::Name)
                    prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                <p id="sign-up-name-error" class="field-error">{error_of(Field::Name)}</p>
                <label for="sign-up-email">"Email"</label>
                <input id="sign-up-email" node_ref=refs.1 type="email" autocomplete="email" required
                    aria-describedby="sign-up-email-error" aria-invalid=invalid(Field::Email)
                    prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/>
                <p id="sign-up-email-error" class="field-error">
                    {error_of(Field::Email)}
                    {move || taken().then(|| view! { " "<A href="/sign-in">"Sign in"</A> })}
                </p>
                <label for="sign-up-password">"Password"</label>
                <input id="sign-up-password" node_ref=refs.2 type="password" autocomplete="new-password" required
                    aria-describedby="sign-up-password-hint sign-up-password-error" aria-invalid=invalid(Field::Password)
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <p id="sign-up-password-hint" class="fine-print">"At least 8 characters."</p>
                <p id="sign-up-password-error" class="field-error">{error_of(Field::Password)}</p>
                <p class="field-error" role="alert">{general}</p>
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                    {move || if busy.get() { "Creating your account…" } else { "Create account" }}
                </button>
            </form>
            <p>"Already have an account? "<A href="/sign-in">"Sign in"</A></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field_at_fault() {
        let cases = [
            (
                "email_taken",
                "an account with this email exists: sign in instead",
                Some(Field::Email),
                true,
            ),
            (
                "invalid_email",
                "enter an email address like name@example.com",
                Some(Field::Email),
                false,
            ),
            (
                "weak_password",
                "choose a password of at least 8 characters",
                Some(Field::Password),
                false,
            ),
            (
                "invalid_name",
                "enter your name (up to 100 characters)",
                Some(Field::Name),
                false,
            ),
            ("offline", "You seem to be offline.", None, false),
        ];
        for (code, message, field, taken) in cases {
            let r = Refusal::of(code, message);
            assert_eq!((r.field, r.taken), (field, taken), "{code}");
            assert!(
                r.message.starts_with(char::is_uppercase) && r.message.ends_with('.'),
                "{}",
                r.message
            );
        }
    }

    #[test]
    fn the_page_checks_what_it_can_before_asking() {
        let field = |n, e, p| check(n, e, p).and_then(|r| r.field);
        assert_eq!(field(" ", "a@b.c", "12345678"), Some(Field::Name));
        assert_eq!(field("Ann", "", "12345678"), Some(Field::Email));
        assert_eq!(field("Ann", "a@b.c", "1234567"), Some(Field::Password));
        assert_eq!(
            field("Ann", "a@b.c", "ünïcödé"),
            Some(Field::Password),
            "counted in characters"
        );
        assert_eq!(field("Ann", "a@b.c", "12345678"), None);
    }
}
