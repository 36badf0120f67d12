"""The browser portal: sign-in with a second factor, the dashboard and the admin's pages."""
