"""The class board (teacher mode): the whole class's trainings of the day, for the projector."""

import streamlit as st

import ui

ui.through_entry_script("board")

st.title("Class board")
if not ui.is_teacher():  # not in a student's navigation; a link to it still shows nothing of anyone's
    st.info("This page is the teacher's: it shows the whole class's trainings in teacher mode.", icon=":material/lock:")
    st.stop()
st.caption("Every training running or finished since the time below; it refreshes by itself.")
ui.class_board()
