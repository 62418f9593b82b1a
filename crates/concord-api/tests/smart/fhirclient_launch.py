"""Standalone launch with PKCE by the Python SMART client (PyPI fhirclient),
the login and approval forms driven over HTTP. Prints OK lines; exits non-zero
on any failure. Usage: fhirclient_launch.py BASE USERNAME PASSWORD OWN OTHER"""
import re
import sys

import requests
from fhirclient import client

base, username, password, own, other = sys.argv[1:6]
redirect = "http://localhost:9999/callback"
smart = client.FHIRClient(settings={
    "app_id": "pyapp",
    "api_base": base,
    "redirect_uri": redirect,
    "scope": "launch/patient openid fhirUser patient/*.read",
})
url = smart.authorize_url
assert "code_challenge=" in url and "code_challenge_method=S256" in url, url
http = requests.Session()
page = http.get(url)
request = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
approval = http.post(base + "/auth/login", data={
    "request": request, "csrf": csrf, "username": username, "password": password})
assert approval.status_code == 200, approval.text
scopes = re.findall(r'name="scope" value="([^"]+)"', approval.text)
done = http.post(base + "/auth/approve",
                 data={"request": request, "csrf": csrf, "decision": "approve", "scope": scopes},
                 allow_redirects=False)
assert done.status_code == 302, done.status_code
smart.handle_callback(done.headers["location"])
assert smart.ready and smart.patient_id == own, smart.patient_id
print("OK token for patient", smart.patient_id)
token = smart.server.auth.access_token
mine = requests.get(base + "/Patient/" + own, headers={"Authorization": "Bearer " + token})
assert mine.status_code == 200, mine.status_code
print("OK read own Patient via fhirclient token")
theirs = requests.get(base + "/Patient/" + other, headers={"Authorization": "Bearer " + token})
# Denied reads answer 404 (never 403): existence is not revealed.
assert theirs.status_code == 404, theirs.status_code
print("OK other patient refused (404)")
