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
use omnicart_api::{MIN_PASSWORD_CHARS, code};

use crate::api::Requests;
use crate::store::{Account, capitalize, use_store};

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
            code::INVALID_NAME => Some(Field::Name),
            code::INVALID_EMAIL | code::EMAIL_TAKEN => Some(Field::Email),
            code::WEAK_PASSWORD => Some(Field::Password),
            _ => None,
        };
        Refusal {
            field,
            message: sentence(message),
            taken: code == code::EMAIL_TAKEN,
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

/// What the page can tell before asking the server (the server's minimum password length is
/// checked here first, to answer at once).
fn check(account: &Account) -> Option<Refusal> {
    let refuse = |field, message: &str| {
        Some(Refusal {
            field: Some(field),
            message: message.to_owned(),
            taken: false,
        })
    };
    if account.name.trim().is_empty() {
        refuse(Field::Name, "Enter your name.")
    } else if account.email.trim().is_empty() {
        refuse(Field::Email, "Enter your email address.")
    } else if account.password.chars().count() < MIN_PASSWORD_CHARS {
        refuse(
            Field::Password,
            "Choose a password of at least 8 characters.",
        )
    } else {
        None
    }
}

/// The form's state, shared by its fields.
#[derive(Clone, Copy)]
struct Form {
    name: RwSignal<String>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    refusal: RwSignal<Option<Refusal>>,
    busy: RwSignal<bool>,
    name_input: NodeRef<html::Input>,
    email_input: NodeRef<html::Input>,
    password_input: NodeRef<html::Input>,
}

impl Form {
    fn new() -> Form {
        Form {
            name: RwSignal::new(String::new()),
            email: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            refusal: RwSignal::new(None),
            busy: RwSignal::new(false),
            name_input: NodeRef::new(),
            email_input: NodeRef::new(),
            password_input: NodeRef::new(),
        }
    }

    fn account(self) -> Account {
        Account {
            name: self.name.get_untracked(),
            email: self.email.get_untracked(),
            password: self.password.get_untracked(),
        }
    }

    /// Shows the refusal and moves focus to the field at fault.
    fn refuse(self, refusal: Refusal) {
        let field = refusal.field;
        self.refusal.set(Some(refusal));
        let input = match field {
            Some(Field::Name) => self.name_input,
            Some(Field::Email) => self.email_input,
            Some(Field::Password) => self.password_input,
            None => return,
        };
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
        }
    }

    /// The message for `field`, if the refusal is about it.
    fn error_of(self, field: Field) -> impl Fn() -> Option<String> + Copy {
        move || {
            self.refusal.with(|r| {
                r.as_ref()
                    .filter(|r| r.field == Some(field))
                    .map(|r| r.message.clone())
            })
        }
    }

    /// `aria-invalid` for `field`.
    fn invalid(self, field: Field) -> impl Fn() -> String + Copy {
        move || {
            self.refusal
                .with(|r| r.as_ref().is_some_and(|r| r.field == Some(field)))
                .to_string()
        }
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let store = use_store();
    let form = Form::new();
    let requests = Requests::of_owner();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if form.busy.get_untracked() {
            return;
        }
        let account = form.account();
        if let Some(r) = check(&account) {
            form.refuse(r);
            return;
        }
        form.busy.set(true);
        form.refusal.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match store.sign_up(account, requests).await {
                // The page is gone: nobody to tell.
                Err(e) if e.is_aborted() => {}
                Ok(()) => {
                    form.busy.set(false);
                    navigate("/cart", Default::default());
                }
                Err(e) => {
                    form.busy.set(false);
                    form.refuse(Refusal::of(&e.code, &e.message));
                }
            }
        });
    };
    let general = move || {
        form.refusal.with(|r| {
            r.as_ref()
                .filter(|r| r.field.is_none())
                .map(|r| r.message.clone())
        })
    };
    let busy = form.busy;
    view! {
        <section class="narrow" aria-labelledby="sign-up-title">
            <h1 id="sign-up-title">"Create an account"</h1>
            <p>"Your cart comes with you, and follows you to every device you sign in on."</p>
            <form on:submit=submit novalidate>
                <NameField form/>
                <EmailField form/>
                <PasswordField form/>
                <p class="field-error" role="alert">{general}</p>
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                    {move || if busy.get() { "Creating your account…" } else { "Create account" }}
                </button>
            </form>
            <p>"Already have an account? "<A href="/sign-in">"Sign in"</A></p>
        </section>
    }
}

#[component]
fn NameField(form: Form) -> impl IntoView {
    let name = form.name;
    view! {
        <label for="sign-up-name">"Name"</label>
        <input id="sign-up-name" node_ref=form.name_input type="text" autocomplete="name" required maxlength="100"
            aria-describedby="sign-up-name-error" aria-invalid=form.invalid(Field::Name)
            prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
        <p id="sign-up-name-error" class="field-error">{form.error_of(Field::Name)}</p>
    }
}

/// The email field; when the address is taken, a link to sign in follows the message.
#[component]
fn EmailField(form: Form) -> impl IntoView {
    let email = form.email;
    let taken = move || form.refusal.with(|r| r.as_ref().is_some_and(|r| r.taken));
    view! {
        <label for="sign-up-email">"Email"</label>
        <input id="sign-up-email" node_ref=form.email_input type="email" autocomplete="email" required
            aria-describedby="sign-up-email-error" aria-invalid=form.invalid(Field::Email)
            prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/>
        <p id="sign-up-email-error" class="field-error">
            {form.error_of(Field::Email)}
            {move || taken().then(|| view! { " "<A href="/sign-in">"Sign in"</A> })}
        </p>
    }
}

#[component]
fn PasswordField(form: Form) -> impl IntoView {
    let password = form.password;
    view! {
        <label for="sign-up-password">"Password"</label>
        <input id="sign-up-password" node_ref=form.password_input type="password" autocomplete="new-password" required
            aria-describedby="sign-up-password-hint sign-up-password-error" aria-invalid=form.invalid(Field::Password)
            prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
        <p id="sign-up-password-hint" class="fine-print">"At least 8 characters."</p>
        <p id="sign-up-password-error" class="field-error">{form.error_of(Field::Password)}</p>
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
        let field = |name: &str, email: &str, password: &str| {
            let account = Account {
                name: name.into(),
                email: email.into(),
                password: password.into(),
            };
            check(&account).and_then(|r| r.field)
        };
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
